/// Why a safetensors file was rejected. Every case names the source file.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    case truncated(source: String, reason: String)
    case badHeader(source: String, reason: String)
    case unsupportedDType(source: String, tensor: String, dtype: String)
    case badShape(source: String, tensor: String, reason: String)
    case offsetsOutOfBounds(source: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    case sizeMismatch(source: String, tensor: String, expectedBytes: Int, foundBytes: Int)
    case overlap(source: String, tensor: String, other: String)
    case gap(source: String, atOffset: Int)
    case nonFiniteValue(tensor: String)

    public var description: String {
        switch self {
        case let .truncated(s, r): return "\(s): truncated safetensors file: \(r)"
        case let .badHeader(s, r): return "\(s): invalid safetensors header: \(r)"
        case let .unsupportedDType(s, t, d): return "\(s): tensor '\(t)' has dtype \(d); only F32 and F16 are supported"
        case let .badShape(s, t, r): return "\(s): tensor '\(t)' has an invalid shape: \(r)"
        case let .offsetsOutOfBounds(s, t, b, e, n):
            return "\(s): tensor '\(t)' data_offsets [\(b), \(e)] lie outside the \(n)-byte data section"
        case let .sizeMismatch(s, t, e, f): return "\(s): tensor '\(t)' needs \(e) bytes but data_offsets span \(f)"
        case let .overlap(s, t, o): return "\(s): tensor '\(t)' overlaps tensor '\(o)'"
        case let .gap(s, o): return "\(s): data section has unreferenced bytes at offset \(o)"
        case let .nonFiniteValue(t): return "tensor '\(t)' has a value that is not finite in the requested dtype"
        }
    }
}
