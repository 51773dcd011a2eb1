import Foundation

/// Why a file could not be read or decoded. Every case names the file; `description` is one readable line.
public enum DicomError: Error, Equatable, CustomStringConvertible, Sendable {
    case fileNotFound(path: String)
    case isDirectory(path: String)
    case unreadable(path: String, reason: String)
    case emptyFile(path: String)
    case notDicom(path: String, reason: String)
    case truncated(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case unsupportedTransferSyntax(path: String, uid: String, name: String)
    case missingPixelData(path: String)
    case pixelDataTooShort(path: String, reason: String)
    case multiFrame(path: String, frames: Int)
    case notMonochrome(path: String, reason: String)
    case invalidGeometry(path: String, reason: String)
    /// The file or its declared image is larger than the configured `DicomLimits`.
    case limitExceeded(path: String, reason: String)
    case decodeFailed(path: String, reason: String)
    /// The declared Specific Character Set cannot be converted to Unicode (unknown set or invalid bytes).
    case unsupportedCharacterSet(path: String, reason: String)
    case internalError(path: String, reason: String)

    public var path: String {
        switch self {
        case .fileNotFound(let p), .isDirectory(let p), .emptyFile(let p), .missingPixelData(let p): return p
        case .unreadable(let p, _), .notDicom(let p, _), .truncated(let p, _), .corrupt(let p, _),
             .pixelDataTooShort(let p, _), .notMonochrome(let p, _), .invalidGeometry(let p, _), .limitExceeded(let p, _),
             .decodeFailed(let p, _), .internalError(let p, _), .unsupportedCharacterSet(let p, _):
            return p
        case .unsupportedTransferSyntax(let p, _, _): return p
        case .multiFrame(let p, _): return p
        }
    }

    /// Short machine-friendly kind, e.g. for JSON and quarantine reasons.
    public var kind: String {
        switch self {
        case .fileNotFound: return "fileNotFound"
        case .isDirectory: return "isDirectory"
        case .unreadable: return "unreadable"
        case .emptyFile: return "emptyFile"
        case .notDicom: return "notDicom"
        case .truncated: return "truncated"
        case .corrupt: return "corrupt"
        case .unsupportedTransferSyntax: return "unsupportedTransferSyntax"
        case .missingPixelData: return "missingPixelData"
        case .pixelDataTooShort: return "pixelDataTooShort"
        case .multiFrame: return "multiFrame"
        case .notMonochrome: return "notMonochrome"
        case .invalidGeometry: return "invalidGeometry"
        case .limitExceeded: return "limitExceeded"
        case .decodeFailed: return "decodeFailed"
        case .unsupportedCharacterSet: return "unsupportedCharacterSet"
        case .internalError: return "internalError"
        }
    }

    /// The reason without the path, printable: header bytes quoted in it (a transfer syntax UID, a DCMTK
    /// message) have their control characters escaped, so it cannot forge log lines.
    public var reason: String { OutputReadiness.printable(rawReason, limit: 1024) }

    private var rawReason: String {
        switch self {
        case .fileNotFound: return "file not found (missing or deleted)"
        case .isDirectory: return "is a directory, not a file"
        case .unreadable(_, let r): return "unreadable: \(r)"
        case .emptyFile: return "empty file"
        case .notDicom(_, let r): return "not DICOM: \(r)"
        case .truncated(_, let r): return "truncated DICOM: \(r)"
        case .corrupt(_, let r): return "corrupt DICOM: \(r)"
        case .unsupportedTransferSyntax(_, let uid, let name):
            return "unsupported transfer syntax \(name.isEmpty ? "" : name + " ")(\(uid))"
        case .missingPixelData: return "missing pixel data"
        case .pixelDataTooShort(_, let r): return r
        case .multiFrame(_, let n): return "multi-frame image (\(n) frames); only single-frame images are supported"
        case .notMonochrome(_, let r): return "colour image: \(r)"
        case .invalidGeometry(_, let r): return r
        case .limitExceeded(_, let r): return "over the input limits: \(r)"
        case .decodeFailed(_, let r): return "cannot decode pixel data: \(r)"
        case .unsupportedCharacterSet(_, let r): return r
        case .internalError(_, let r): return "internal error: \(r)"
        }
    }

    public var description: String { "\(OutputReadiness.printable(path, limit: 4096)): \(reason)" }
}
