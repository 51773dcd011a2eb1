import Foundation

/// Minimal .npy reader (version 1/2, C order, little-endian u1/f4/f8/i4/i8) for parity tests and tools.
public struct NpyArray: Sendable {
    public let shape: [Int]
    public let values: [Double]

    public static func read(path: String) throws -> NpyArray {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImagingError.cannotOpen(path: path, reason: "cannot read file")
        }
        let b = [UInt8](data)
        guard b.count >= 10, b[0] == 0x93, Array(b[1...5]) == Array("NUMPY".utf8) else {
            throw ImagingError.badNpy(path: path, reason: "no NUMPY magic")
        }
        let major = b[6]
        let hlen: Int, hstart: Int
        if major == 1 { hlen = Int(b[8]) | Int(b[9]) << 8; hstart = 10 } else {
            guard b.count >= 12 else { throw ImagingError.badNpy(path: path, reason: "short header") }
            hlen = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; hstart = 12
        }
        guard hstart + hlen <= b.count else { throw ImagingError.badNpy(path: path, reason: "short header") }
        let header = String(decoding: b[hstart..<hstart + hlen], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = field("descr"), let q1 = descrField.dropFirst().firstIndex(of: "'") else {
            throw ImagingError.badNpy(path: path, reason: "no descr")
        }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<q1])
        if let f = field("fortran_order"), f.hasPrefix("True") {
            throw ImagingError.badNpy(path: path, reason: "Fortran order not supported")
        }
        guard let s = field("shape"), let open = s.firstIndex(of: "("), let close = s.firstIndex(of: ")") else {
            throw ImagingError.badNpy(path: path, reason: "no shape")
        }
        let shape = s[s.index(after: open)..<close].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let body = Array(b[(hstart + hlen)...])
        func load<T>(_ size: Int, _ conv: (UnsafeRawBufferPointer, Int) -> T) throws -> [T] {
            guard body.count >= count * size else { throw ImagingError.badNpy(path: path, reason: "data too short") }
            return body.withUnsafeBytes { raw in (0..<count).map { conv(raw, $0 * size) } }
        }
        let values: [Double]
        switch descr {
        case "|u1", "<u1": values = try load(1) { Double($0[$1]) }
        case "<f8": values = try load(8) { Double(bitPattern: $0.loadUnaligned(fromByteOffset: $1, as: UInt64.self).littleEndian) }
        case "<f4": values = try load(4) { Double(Float(bitPattern: $0.loadUnaligned(fromByteOffset: $1, as: UInt32.self).littleEndian)) }
        case "<i4": values = try load(4) { Double(Int32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int32.self))) }
        case "<i8": values = try load(8) { Double(Int64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int64.self))) }
        default: throw ImagingError.badNpy(path: path, reason: "unsupported dtype \(descr)")
        }
        return NpyArray(shape: shape, values: values)
    }
}
