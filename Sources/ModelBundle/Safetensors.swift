import BSNetEngine
import Foundation

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

    // MARK: writing

    /// Encodes tensors (in the given order) into safetensors bytes. Float16 conversion fails
    /// with `nonFiniteValue` if a finite Float would overflow half precision.
    public static func encode(_ tensors: [(name: String, tensor: WeightTensor)], dtype: SafetensorsDType,
                              metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            precondition(name != "__metadata__", "reserved tensor name")
            let bytes = t.values.count * dtype.byteSize
            header[name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for (name, t) in tensors {
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
