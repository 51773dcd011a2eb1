import BSNetEngine
import Foundation

/// NumPy .npy files (format versions 1.0-3.0): float32, float64 and uint8, C order, little-endian.
/// Anything else (other dtypes, big-endian, Fortran order, object arrays, truncated data) is a typed
/// error naming the file and the reason.
public enum NpyDType: String, Sendable {
    case float32 = "<f4", float64 = "<f8", uint8 = "|u1"
    var size: Int { switch self { case .float32: 4; case .float64: 8; case .uint8: 1 } }
}

public enum NpyError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case unsupported(path: String, reason: String)
    case unexpectedShape(path: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .unreadable(p, r): return "\(p): cannot read .npy file: \(r)"
        case let .malformed(p, r): return "\(p): not a valid .npy file: \(r)"
        case let .unsupported(p, r): return "\(p): unsupported .npy content: \(r)"
        case let .unexpectedShape(p, e, f): return "\(p): expected shape \(e), found \(f)"
        }
    }
}

public struct NpyArray: Sendable {
    public var dtype: NpyDType
    public var shape: [Int]
    /// Raw little-endian element bytes, C order.
    public var bytes: [UInt8]

    public init(dtype: NpyDType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }
    public init(float32 values: [Float], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *))
        self.init(dtype: .float32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }
    public init(float64 values: [Double], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *))
        self.init(dtype: .float64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }
    public init(uint8 values: [UInt8], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *))
        self.init(dtype: .uint8, shape: shape, bytes: values)
    }

    public var count: Int { shape.reduce(1, *) }

    /// The elements as Float (float64 and uint8 are converted).
    public func floats() -> [Float] {
        switch dtype {
        case .float32:
            return [Float](unsafeUninitializedCapacity: count) { buf, n in
                _ = bytes.withUnsafeBytes { memcpy(buf.baseAddress!, $0.baseAddress!, count * 4) }
                n = count
            }
        case .float64: return doubles().map { Float($0) }
        case .uint8: return bytes.map { Float($0) }
        }
    }

    public func doubles() -> [Double] {
        switch dtype {
        case .float64:
            return [Double](unsafeUninitializedCapacity: count) { buf, n in
                _ = bytes.withUnsafeBytes { memcpy(buf.baseAddress!, $0.baseAddress!, count * 8) }
                n = count
            }
        case .float32: return floats().map { Double($0) }
        case .uint8: return bytes.map { Double($0) }
        }
    }

    // MARK: reading

    public static func read(path: String) throws -> NpyArray {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NpyError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission or I/O error" : "no such file")
        }
        return try parse([UInt8](data), path: path)
    }

    public static func parse(_ b: [UInt8], path: String) throws -> NpyArray {
        guard b.count >= 10, b[0] == 0x93, Array(b[1...5]) == Array("NUMPY".utf8) else {
            throw NpyError.malformed(path: path, reason: "missing \\x93NUMPY magic")
        }
        let major = b[6]
        let headerLen: Int, start: Int
        switch major {
        case 1: headerLen = Int(b[8]) | Int(b[9]) << 8; start = 10
        case 2, 3:
            guard b.count >= 12 else { throw NpyError.malformed(path: path, reason: "truncated header") }
            headerLen = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; start = 12
        default: throw NpyError.unsupported(path: path, reason: "format version \(major)")
        }
        guard b.count >= start + headerLen,
              let header = String(bytes: b[start..<(start + headerLen)], encoding: major == 3 ? .utf8 : .isoLatin1)
        else { throw NpyError.malformed(path: path, reason: "truncated header") }

        let descr = try field("descr", in: header, path: path)
        let fortran = try field("fortran_order", in: header, path: path)
        let shapeText = try field("shape", in: header, path: path)
        let d = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let dtype: NpyDType
        switch d {
        case "<f4": dtype = .float32
        case "<f8": dtype = .float64
        case "|u1", "<u1", "u1": dtype = .uint8
        default: throw NpyError.unsupported(path: path, reason: "dtype '\(d)' (supported: float32 '<f4', float64 '<f8', uint8 '|u1')")
        }
        guard fortran.trimmingCharacters(in: .whitespaces) == "False" else {
            throw NpyError.unsupported(path: path, reason: "Fortran order (only C order is supported)")
        }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw NpyError.malformed(path: path, reason: "bad shape \(shapeText)") }
            shape.append(v)
        }
        let count = shape.reduce(1, *)
        let dataStart = start + headerLen
        let need = count * dtype.size
        guard b.count - dataStart >= need else {
            throw NpyError.malformed(path: path, reason: "data truncated: \(b.count - dataStart) bytes for \(need) expected")
        }
        return NpyArray(dtype: dtype, shape: shape, bytes: Array(b[dataStart..<(dataStart + need)]))
    }

    /// The text of `'key': value` in the header dict (value up to the next top-level comma).
    private static func field(_ key: String, in header: String, path: String) throws -> String {
        guard let r = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else {
            throw NpyError.malformed(path: path, reason: "header has no '\(key)'")
        }
        var rest = header[r.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { throw NpyError.malformed(path: path, reason: "bad header near '\(key)'") }
        rest = rest.dropFirst().drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { throw NpyError.malformed(path: path, reason: "unterminated shape") }
            return String(rest[...close])
        }
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return String(rest[..<end])
    }

    // MARK: writing

    public func encoded() -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so the data starts on a 64-byte boundary; the header ends with a newline.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let len = header.utf8.count
        out += [UInt8(len & 0xff), UInt8(len >> 8)]
        out += Array(header.utf8)
        out += bytes
        return out
    }

    public func write(path: String) throws {
        do { try Data(encoded()).write(to: URL(fileURLWithPath: path)) }
        catch { throw NpyError.unreadable(path: path, reason: "cannot write: \(error.localizedDescription)") }
    }
}

extension NpyArray {
    /// Reads a BS-Net input: a (1,512,512,1) float32 array (the Keras model's input tensor).
    /// Other shapes or dtypes are errors naming the file; NaN/Inf are rejected later by `BSNet.run`.
    public static func readNetworkInput(path: String) throws -> [Float] {
        let a = try read(path: path)
        let n = BSNetArchitecture.inputSize
        guard a.dtype == .float32 else {
            throw NpyError.unsupported(path: path, reason: "dtype \(a.dtype) ('\(a.dtype.rawValue)'); the network input must be float32")
        }
        guard a.shape == [1, n, n, 1] else { throw NpyError.unexpectedShape(path: path, expected: [1, n, n, 1], found: a.shape) }
        return a.floats()
    }
}
