/// Errors from reading or writing image files; each names the file.
public enum ImagingError: Error, Equatable, CustomStringConvertible, Sendable {
    case cannotOpen(path: String, reason: String)
    case notAnImage(path: String)
    case corrupt(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case invalidImage(reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): return "\(p): cannot open: \(r)"
        case .notAnImage(let p): return "\(p): not a PNG or JPEG file"
        case .corrupt(let p, let r): return "\(p): corrupt image: \(r)"
        case .writeFailed(let p, let r): return "\(p): cannot write PNG: \(r)"
        case .invalidImage(let r): return "invalid image: \(r)"
        }
    }
}
