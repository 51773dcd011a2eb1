import ModelBundle
import Foundation
import Testing
@testable import BSNetEngine

@Suite struct NpyTests {
    @Test func roundTripsAllDtypes() throws {
        let f32 = NpyArray(float32: [1, -2.5, 3e-7, 4, 5, 6], shape: [1, 2, 3])
        let f64 = NpyArray(float64: [0.1, 0.2], shape: [2])
        let u8 = NpyArray(uint8: [0, 255, 7, 9], shape: [2, 2])
        for a in [f32, f64, u8] {
            let bytes = a.encoded()
            #expect((bytes.count - a.bytes.count) % 64 == 0)   // data aligned to 64 bytes
            let b = try NpyArray.parse(bytes, path: "mem")
            #expect(b.dtype == a.dtype && b.shape == a.shape && b.bytes == a.bytes)
        }
        #expect(try NpyArray.parse(f32.encoded(), path: "m").floats() == [1, -2.5, 3e-7, 4, 5, 6])
        #expect(try NpyArray.parse(u8.encoded(), path: "m").floats() == [0, 255, 7, 9])
        #expect(try NpyArray.parse(f64.encoded(), path: "m").doubles() == [0.1, 0.2])
    }

    @Test func writesAndReadsFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.npy").path
        try NpyArray(float32: [1, 2, 3, 4, 5, 6], shape: [1, 3, 2, 1]).write(path: path)
        let back = try NpyArray.read(path: path)
        #expect(back.shape == [1, 3, 2, 1] && back.floats() == [1, 2, 3, 4, 5, 6])
    }

    func header(_ dict: String, data: [UInt8] = []) -> [UInt8] {
        var h = dict
        while (10 + h.utf8.count + 1) % 64 != 0 { h += " " }
        h += "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.utf8.count & 0xff), UInt8(h.utf8.count >> 8)] + Array(h.utf8) + data
    }

    @Test func rejectsUnsupportedContentWithClearErrors() {
        #expect(throws: NpyError.unsupported(path: "a.npy", reason: "dtype '<i8' (supported: float32 '<f4', float64 '<f8', uint8 '|u1')")) {
            try NpyArray.parse(header("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", data: Array(repeating: 0, count: 8)), path: "a.npy")
        }
        #expect(throws: NpyError.self) {   // big-endian
            try NpyArray.parse(header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]), path: "b.npy")
        }
        #expect(throws: NpyError.unsupported(path: "c.npy", reason: "Fortran order (only C order is supported)")) {
            try NpyArray.parse(header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data: Array(repeating: 0, count: 16)), path: "c.npy")
        }
        #expect(throws: NpyError.malformed(path: "d.npy", reason: "data truncated: 4 bytes for 16 expected")) {
            try NpyArray.parse(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data: [0, 0, 0, 0]), path: "d.npy")
        }
        #expect(throws: NpyError.malformed(path: "e.npy", reason: "missing \\x93NUMPY magic")) {
            try NpyArray.parse(Array("hello world, not numpy".utf8), path: "e.npy")
        }
        #expect(throws: NpyError.unreadable(path: "/nonexistent/x.npy", reason: "no such file")) {
            try NpyArray.read(path: "/nonexistent/x.npy")
        }
    }

    @Test func parsesScalarAndOneDimensionalShapes() throws {
        let a = try NpyArray.parse(header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data: [0, 0, 128, 63]), path: "s")
        #expect(a.shape == [] && a.floats() == [1])
        let b = try NpyArray.parse(header("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0, 0, 0, 240, 63]), path: "v")
        #expect(b.shape == [1] && b.doubles() == [1])
    }
}

@Suite struct NetworkInputFileTests {
    func tempFile(_ a: NpyArray) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("in-\(UInt32.random(in: 0...UInt32.max)).npy").path
        try a.write(path: path)
        return path
    }

    @Test func acceptsOnlyFloat32Of1x512x512x1() throws {
        let ok = try tempFile(NpyArray(float32: [Float](repeating: 0.25, count: 512 * 512), shape: [1, 512, 512, 1]))
        defer { try? FileManager.default.removeItem(atPath: ok) }
        #expect(try NpyArray.readNetworkInput(path: ok).count == 512 * 512)

        let wrongShape = try tempFile(NpyArray(float32: [Float](repeating: 0, count: 512 * 512), shape: [512, 512]))
        defer { try? FileManager.default.removeItem(atPath: wrongShape) }
        #expect(throws: NpyError.unexpectedShape(path: wrongShape, expected: [1, 512, 512, 1], found: [512, 512])) {
            try NpyArray.readNetworkInput(path: wrongShape)
        }
        let wrongType = try tempFile(NpyArray(float64: [Double](repeating: 0, count: 512 * 512), shape: [1, 512, 512, 1]))
        defer { try? FileManager.default.removeItem(atPath: wrongType) }
        #expect(throws: NpyError.self) { try NpyArray.readNetworkInput(path: wrongType) }
    }
}
