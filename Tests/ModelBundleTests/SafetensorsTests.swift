import BSNetEngine
import Foundation
@testable import ModelBundle
import Testing

@Suite struct SafetensorsTests {
    let sample: [(name: String, tensor: WeightTensor)] = [
        ("a/kernel", WeightTensor(shape: [2, 3], values: [0, -1.5, 3.25, 1e-3, -7, 65504])),
        ("a/bias", WeightTensor(shape: [3], values: [0.1, 0.2, 0.3])),
        ("scalar", WeightTensor(shape: [], values: [42])),
        ("empty", WeightTensor(shape: [0, 4], values: [])),
    ]

    @Test func float32RoundTripIsExact() throws {
        let data = try SafetensorsFile.encode(sample, dtype: .f32, metadata: ["k": "v"])
        let file = try SafetensorsFile(data: data, source: "mem")
        #expect(file.metadata == ["k": "v"])
        #expect(Set(file.tensorNames) == Set(sample.map(\.name)))
        for (name, t) in sample {
            let back = try file.tensor(named: name)
            #expect(back.shape == t.shape)
            #expect(back.values.map(\.bitPattern) == t.values.map(\.bitPattern))
        }
        // Header length is a multiple of 8 so the data section is aligned.
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
    }

    @Test func float16RoundTripWithinHalfPrecision() throws {
        let data = try SafetensorsFile.encode(sample, dtype: .f16)
        let file = try SafetensorsFile(data: data, source: "mem")
        #expect(file.entries["a/kernel"]?.dtype == .f16)
        for (name, t) in sample {
            let back = try file.tensor(named: name)
            #expect(back.shape == t.shape)
            for (x, y) in zip(t.values, back.values) {
                #expect(abs(x - y) <= max(abs(x) * 0.0005, 6e-8), "\(name): \(x) -> \(y)")
            }
        }
    }

    @Test func halfConversionExactCases() {
        let cases: [(Float, UInt16)] = [(0, 0x0000), (-0.0, 0x8000), (1, 0x3C00), (-2, 0xC000), (65504, 0x7BFF),
                                        (0.5, 0x3800), (Float.infinity, 0x7C00), (5.9604645e-8, 0x0001), (6.1035156e-5, 0x0400)]
        for (f, h) in cases {
            #expect(Half.fromFloat(f) == h, "\(f)")
            #expect(Half.toFloat(h) == f, "\(h)")
        }
        #expect(Half.toFloat(Half.fromFloat(.nan)).isNaN)
        #expect(Half.fromFloat(1 + 1.0 / 2048) == 0x3C00)  // tie rounds to even
        #expect(Half.fromFloat(1 + 3.0 / 2048) == 0x3C02)
        #expect(Half.fromFloat(1e6) == 0x7C00)
        // Every finite half survives half -> float -> half.
        for h in UInt16(0)...UInt16.max where (h & 0x7C00) != 0x7C00 {
            #expect(Half.fromFloat(Half.toFloat(h)) == h)
        }
    }

    @Test func float16OverflowIsRejected() {
        let big = [(name: "big", tensor: WeightTensor(shape: [1], values: [1e6]))]
        #expect(throws: SafetensorsError.nonFiniteValue(tensor: "big")) { try SafetensorsFile.encode(big, dtype: .f16) }
    }

    /// Hand-made file: header JSON then `dataBytes` zero bytes.
    func file(_ header: String, dataBytes: Int, headerLengthOverride: UInt64? = nil) -> Data {
        let json = Data(header.utf8)
        var length = (headerLengthOverride ?? UInt64(json.count)).littleEndian
        var d = Data(bytes: &length, count: 8)
        d.append(json)
        d.append(Data(count: dataBytes))
        return d
    }

    @Test func truncatedFiles() {
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(data: Data([1, 2, 3]), source: "t") }
        let err = #expect(throws: SafetensorsError.self) {
            try SafetensorsFile(data: file("{}", dataBytes: 0, headerLengthOverride: 1000), source: "t.safetensors")
        }
        guard case let .truncated(source, _)? = err else { Issue.record("wrong error"); return }
        #expect(source == "t.safetensors")
        // A real file cut short: the last tensor's bytes are gone.
        let data = try! SafetensorsFile.encode(sample, dtype: .f32)
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(data: data.dropLast(4), source: "cut") }
    }

    @Test func badHeaders() {
        for header in ["not json", "[1,2]", #"{"x": 5}"#, #"{"x": {"shape": [1], "data_offsets": [0, 4]}}"#,
                       #"{"x": {"dtype": "F32", "shape": [1]}}"#, #"{"__metadata__": {"a": 1}}"#] {
            let e = #expect(throws: SafetensorsError.self) { try SafetensorsFile(data: file(header, dataBytes: 4), source: "h") }
            if case .badHeader? = e {} else { Issue.record("\(header): \(String(describing: e))") }
        }
        #expect(throws: SafetensorsError.badShape(source: "h", tensor: "x", reason: "negative dimension in [-1]")) {
            try SafetensorsFile(data: file(#"{"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, dataBytes: 4), source: "h")
        }
        #expect(throws: SafetensorsError.badShape(source: "h", tensor: "x", reason: "shape must be a list of integers")) {
            try SafetensorsFile(data: file(#"{"x": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, dataBytes: 4), source: "h")
        }
    }

    @Test func offsetsOutOfBounds() {
        #expect(throws: SafetensorsError.offsetsOutOfBounds(source: "o", tensor: "w", begin: 0, end: 16, dataSize: 8)) {
            try SafetensorsFile(data: file(#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#, dataBytes: 8), source: "o")
        }
        #expect(throws: SafetensorsError.offsetsOutOfBounds(source: "o", tensor: "w", begin: 8, end: 4, dataSize: 8)) {
            try SafetensorsFile(data: file(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}"#, dataBytes: 8), source: "o")
        }
    }

    @Test func sizeMismatchOverlapAndGap() {
        #expect(throws: SafetensorsError.sizeMismatch(source: "s", tensor: "w", expectedBytes: 12, foundBytes: 8)) {
            try SafetensorsFile(data: file(#"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, dataBytes: 8), source: "s")
        }
        let overlap = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#
        #expect(throws: SafetensorsError.overlap(source: "s", tensor: "b", other: "a")) {
            try SafetensorsFile(data: file(overlap, dataBytes: 12), source: "s")
        }
        #expect(throws: SafetensorsError.gap(source: "s", atOffset: 0)) {
            try SafetensorsFile(data: file(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, dataBytes: 8), source: "s")
        }
        #expect(throws: SafetensorsError.gap(source: "s", atOffset: 4)) {
            try SafetensorsFile(data: file(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, dataBytes: 8), source: "s")
        }
    }

    @Test func unsupportedDTypeIsNamed() {
        let e = #expect(throws: SafetensorsError.unsupportedDType(source: "d", tensor: "w", dtype: "BF16")) {
            try SafetensorsFile(data: file(#"{"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}"#, dataBytes: 4), source: "d")
        }
        #expect(e?.description.contains("'w'") == true)
    }

    @Test func missingTensor() throws {
        let f = try SafetensorsFile(data: try SafetensorsFile.encode(sample, dtype: .f32), source: "m")
        #expect(throws: MissingTensorError(name: "nope", source: "m")) { try f.tensor(named: "nope") }
    }
}
