import BSNetEngine
import Crypto
import Foundation
import TextSafety

/// Element types this project stores. Others (BF16, F64, integers) are rejected by name.
public enum SafetensorsDType: String, Sendable, Codable {
    case f32 = "F32"
    case f16 = "F16"
    public var byteSize: Int { self == .f32 ? 4 : 2 }
}

/// A safetensors file held in memory: 8-byte little-endian header length, JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, then the
/// raw little-endian data. Written by hand: there is no maintained Swift safetensors library.
/// Every entry is validated up front (dtype, shape, bounds, size, overlaps, holes), so
/// `tensor(named:)` only decodes.
public struct SafetensorsFile: WeightProvider, Sendable {
    public struct Entry: Sendable, Equatable {
        public let dtype: SafetensorsDType
        public let shape: [Int]
        /// Byte range inside the data section.
        public let begin: Int
        public let end: Int
    }

    public let source: String
    public let metadata: [String: String]
    /// Tensor names in data order.
    public let tensorNames: [String]
    public let entries: [String: Entry]
    private let data: Data
    private let dataStart: Int

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafetensorsError.truncated(source: url.path, reason: "cannot read file: \(error.localizedDescription)")
        }
        try self.init(data: data, source: url.path)
    }

    public init(data: Data, source: String) throws {
        let data = Data(data)  // rebase indices at 0
        self.source = source
        self.data = data
        guard data.count >= 8 else {
            throw SafetensorsError.truncated(source: source, reason: "\(data.count) bytes, the header length alone needs 8")
        }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw SafetensorsError.truncated(source: source, reason: "header length \(headerLength) exceeds the \(data.count - 8) bytes after it")
        }
        let headerEnd = 8 + Int(headerLength)
        dataStart = headerEnd
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) } catch {
            throw SafetensorsError.badHeader(source: source, reason: "header is not valid JSON")
        }
        guard let header = json as? [String: Any] else {
            throw SafetensorsError.badHeader(source: source, reason: "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: String] else {
                throw SafetensorsError.badHeader(source: source, reason: "__metadata__ must map strings to strings")
            }
            metadata = m
        }
        let dataSize = data.count - headerEnd
        var entries: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            entries[name] = try Self.parseEntry(name: name, value: value, dataSize: dataSize, source: source)
        }
        // Reject overlaps and holes: the data section must be exactly the tensors laid end to end
        // (the reference implementation's rule), so no bytes escape the checksum's meaning.
        let ordered = entries.sorted { ($0.value.begin, $0.value.end, $0.key) < ($1.value.begin, $1.value.end, $1.key) }
        var cursor = 0
        var previous: String? = nil
        for (name, e) in ordered {
            if e.begin < cursor, let previous { throw SafetensorsError.overlap(source: source, tensor: name, other: previous) }
            if e.begin > cursor { throw SafetensorsError.gap(source: source, atOffset: cursor) }
            cursor = e.end
            previous = name
        }
        if cursor != dataSize { throw SafetensorsError.gap(source: source, atOffset: cursor) }
        self.metadata = metadata
        self.entries = entries
        self.tensorNames = ordered.map(\.key)
    }

    private static func parseEntry(name: String, value: Any, dataSize: Int, source: String) throws -> Entry {
        guard let obj = value as? [String: Any] else {
            throw SafetensorsError.badHeader(source: source, reason: "entry '\(name)' is not an object")
        }
        guard let dtypeName = obj["dtype"] as? String else {
            throw SafetensorsError.badHeader(source: source, reason: "entry '\(name)' has no dtype")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unsupportedDType(source: source, tensor: name, dtype: dtypeName)
        }
        guard let shapeValues = obj["shape"] as? [Any], let shape = integers(shapeValues) else {
            throw SafetensorsError.badShape(source: source, tensor: name, reason: "shape must be a list of integers")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw SafetensorsError.badShape(source: source, tensor: name, reason: "negative dimension in \(shape)")
        }
        guard let offsetValues = obj["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2 else {
            throw SafetensorsError.badHeader(source: source, reason: "entry '\(name)' needs data_offsets [begin, end]")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, end >= begin, end <= dataSize else {
            throw SafetensorsError.offsetsOutOfBounds(source: source, tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= dataSize else {
                throw SafetensorsError.sizeMismatch(source: source, tensor: name, expectedBytes: Int.max, foundBytes: end - begin)
            }
            count = p
        }
        guard count * dtype.byteSize == end - begin else {
            throw SafetensorsError.sizeMismatch(source: source, tensor: name, expectedBytes: count * dtype.byteSize, foundBytes: end - begin)
        }
        return Entry(dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// JSON numbers arrive as NSNumber; accept only exact non-fractional integers.
    private static func integers(_ values: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in values {
            if type(of: v) == Bool.self { return nil }  // not `is Bool`: NSNumber(1) bridges to Bool
            guard let n = v as? NSNumber else { return nil }
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
            out.append(n.intValue)
        }
        return out
    }

    public func tensor(named name: String) throws -> WeightTensor {
        guard let e = entries[name] else { throw MissingTensorError(name: name, source: source) }
        let count = e.shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + dataStart + e.begin
            switch e.dtype {
            case .f32:
                for i in 0..<count {
                    values[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            case .f16:
                for i in 0..<count {
                    values[i] = Half.toFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            }
        }
        return WeightTensor(shape: e.shape, values: values)
    }

    // MARK: canonical form

    /// Names in canonical order: by the UTF-8 bytes of the name (Unicode code point order), which
    /// every language sorts the same way (Swift's own String order is not code point order).
    public static func canonicalOrder(_ names: [String]) -> [String] {
        names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The canonical header (docs/model-bundle.md, "Weights checksum"): one JSON object, keys
    /// sorted by code point at every level, no whitespace, offsets of the tensors laid end to end
    /// in canonical order, then spaces up to a multiple of 8 bytes including the 8-byte length.
    /// Written by hand so the bytes are exactly those of the spec, whatever Foundation's JSON
    /// encoder does (its sortedKeys is a locale-style collation and it escapes '/').
    static func canonicalHeader(_ tensors: [(name: String, dtype: SafetensorsDType, shape: [Int])],
                                metadata: [String: String]) -> Data {
        var items: [(key: String, json: String)] = []
        if !metadata.isEmpty {
            let meta = canonicalOrder(Array(metadata.keys)).map { "\(SafeText.jsonString($0)):\(SafeText.jsonString(metadata[$0]!))" }
            items.append(("__metadata__", "{" + meta.joined(separator: ",") + "}"))
        }
        var offset = 0
        for t in tensors {
            let bytes = t.shape.reduce(1, *) * t.dtype.byteSize
            let shape = t.shape.map(String.init).joined(separator: ",")
            items.append((t.name, "{\"data_offsets\":[\(offset),\(offset + bytes)],\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)]}"))
            offset += bytes
        }
        let order = Dictionary(uniqueKeysWithValues: canonicalOrder(items.map(\.key)).enumerated().map { ($1, $0) })
        items.sort { order[$0.key]! < order[$1.key]! }
        var json = Data(("{" + items.map { "\(SafeText.jsonString($0.key)):\($0.json)" }.joined(separator: ",") + "}").utf8)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        return json
    }


    /// SHA-256 (lower-case hex) of the canonical serialization of this file's content: what a
    /// bundle's `weights.sha256` records (formatVersion 2). It depends only on the tensors (names,
    /// dtypes, shapes, bytes) and the metadata, not on the order or JSON spelling of this file.
    public func canonicalSHA256() -> String {
        let names = Self.canonicalOrder(tensorNames)
        let header = Self.canonicalHeader(names.map { (name: $0, dtype: entries[$0]!.dtype, shape: entries[$0]!.shape) },
                                          metadata: metadata)
        var hasher = SHA256()
        var length = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
        hasher.update(data: header)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for name in names {
                let e = entries[name]!
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin)..<(dataStart + e.end)]))
            }
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    // MARK: writing

    /// Encodes tensors into the canonical safetensors bytes (tensors in canonical name order,
    /// canonical header), so the file's own SHA-256 is its content checksum. Float16 conversion
    /// fails with `nonFiniteValue` if a finite Float would overflow half precision.
    public static func encode(_ tensors: [(name: String, tensor: WeightTensor)], dtype: SafetensorsDType,
                              metadata: [String: String] = [:]) throws -> Data {
        precondition(!tensors.contains { $0.name == "__metadata__" }, "reserved tensor name")
        precondition(Set(tensors.map(\.name)).count == tensors.count, "duplicate tensor names")
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
        let names = canonicalOrder(tensors.map(\.name))
        let json = canonicalHeader(names.map { (name: $0, dtype: dtype, shape: byName[$0]!.shape) }, metadata: metadata)
        let dataBytes = tensors.reduce(0) { $0 + $1.tensor.values.count * dtype.byteSize }
        var out = Data(capacity: 8 + json.count + dataBytes)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            let t = byName[name]!
            switch dtype {
            case .f32:
                var le = t.values.map { $0.bitPattern.littleEndian }
                le.withUnsafeMutableBytes { out.append(contentsOf: $0) }
            case .f16:
                var le = [UInt16]()
                le.reserveCapacity(t.values.count)
                for v in t.values {
                    let h = Half.fromFloat(v)
                    if v.isFinite && (h & 0x7C00) == 0x7C00 { throw SafetensorsError.nonFiniteValue(tensor: name) }
                    le.append(h.littleEndian)
                }
                le.withUnsafeMutableBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }
}
