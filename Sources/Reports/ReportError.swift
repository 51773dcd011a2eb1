import Foundation

/// Typed failures of the report writers. Every case names the file or field involved.
public enum ReportError: Error, Equatable, CustomStringConvertible {
    case invalidInput(field: String, reason: String)
    case directoryMissing(path: String, detail: String)
    case notWritable(path: String, detail: String)
    case diskFull(path: String, detail: String)
    case ioFailure(path: String, detail: String)
    case encodingFailed(path: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidInput(f, r): "invalid report input \(f): \(r)"
        case let .directoryMissing(p, d): "output directory missing: \(p) (\(d))"
        case let .notWritable(p, d): "output directory not writable: \(p) (\(d))"
        case let .diskFull(p, d): "disk full writing \(p) (\(d))"
        case let .ioFailure(p, d): "I/O error writing \(p) (\(d))"
        case let .encodingFailed(p, d): "could not encode DICOM object \(p) (\(d))"
        }
    }
}
