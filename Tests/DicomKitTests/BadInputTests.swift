import Testing
import BrixiaDomain
import Foundation
@testable import DicomKit

/// Every kind of bad input gives a typed DicomError naming the file; nothing crashes or hangs.
@Suite(.enabled(if: Fixtures.toolsAvailable, "needs DCMTK command-line tools (apt package dcmtk)"))
struct BadInputTests {
    /// Opens and decodes; returns the DicomError or nil on success. Any other error fails the test.
    static func outcome(_ path: String) -> DicomError? {
        do {
            let f = try DicomFile(path: path)
            _ = try f.decodeDisplay()
            return nil
        } catch let e as DicomError {
            return e
        } catch {
            Issue.record("untyped error \(error) for \(path)")
            return nil
        }
    }

    static func expectError(_ path: String, _ kind: String, _ contains: String = "") {
        guard let e = outcome(path) else { Issue.record("\(path): expected \(kind), got success (\((try? DicomFile(path: path))?.instance.geometry as Any))"); return }
        #expect(e.kind == kind, "\(path): expected \(kind), got \(e)")
        #expect(e.path == path)
        #expect(e.description.hasPrefix(path))
        if !contains.isEmpty { #expect(e.description.contains(contains), "\(e.description)") }
    }

    @Test func notDicomEmptyDirectoryMissing() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.txt").path
        try Data("hello, this is not a DICOM file at all\n".utf8).write(to: URL(fileURLWithPath: text))
        Self.expectError(text, "notDicom", "not DICOM")
        let empty = dir.appendingPathComponent("empty.dcm").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        Self.expectError(empty, "emptyFile", "empty file")
        Self.expectError(dir.path, "isDirectory", "directory")
        Self.expectError(dir.appendingPathComponent("nope.dcm").path, "fileNotFound", "not found")
    }

    @Test func structuralProblems() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        Self.expectError(try Fixtures.make(.init(omitPixelData: true), in: dir, name: "nopix"), "missingPixelData", "missing pixel data")
        Self.expectError(try Fixtures.make(.init(rows: 32, cols: 32, pixelBytes: [UInt8](repeating: 7, count: 1000)), in: dir, name: "short"),
                         "pixelDataTooShort", "too short")
        Self.expectError(try Fixtures.make(.init(rows: 16, cols: 16, frames: 3), in: dir, name: "multi"), "multiFrame", "3 frames")
        Self.expectError(try Fixtures.make(.init(rows: 16, cols: 16, bitsAllocated: 8, bitsStored: 8, photometric: "RGB",
                                                 samplesPerPixel: 3, window: nil), in: dir, name: "rgb"), "notMonochrome", "RGB")
        // Unknown transfer syntax: patch the UID in the File Meta (same length).
        let good = try Fixtures.make(.init(), in: dir, name: "ts")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: good)))
        let from = Array("1.2.840.10008.1.2.1".utf8), to = Array("1.2.840.99999.1.2.1".utf8)
        let at = (0..<(bytes.count - from.count)).first { Array(bytes[$0..<$0 + from.count]) == from }!
        bytes.replaceSubrange(at..<at + from.count, with: to)
        let unknown = dir.appendingPathComponent("unknown-ts.dcm").path
        try Data(bytes).write(to: URL(fileURLWithPath: unknown))
        Self.expectError(unknown, "unsupportedTransferSyntax", "1.2.840.99999.1.2.1")
    }

    @Test func truncatedAtManyOffsets() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try Fixtures.make(.init(rows: 32, cols: 32), in: dir, name: "good")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: good)))
        var kinds: [String: Int] = [:]
        let cut = dir.appendingPathComponent("cut.dcm").path
        for len in stride(from: 1, to: bytes.count - 1, by: 37) {
            try Data(bytes[0..<len]).write(to: URL(fileURLWithPath: cut))
            let e = Self.outcome(cut)
            #expect(e != nil, "truncated to \(len) of \(bytes.count) bytes read without error")
            if let e { kinds[e.kind, default: 0] += 1; #expect(e.path == cut) }
        }
        // Cuts inside the header and inside the pixel data are both reported.
        #expect(kinds["truncated", default: 0] + kinds["pixelDataTooShort", default: 0] > 0, "\(kinds)")
    }

    @Test func flippedHeaderByteNeverCrashes() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try Fixtures.make(.init(rows: 32, cols: 32), in: dir, name: "good")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: good)))
        let out = dir.appendingPathComponent("flip.dcm").path
        var errors = 0
        for i in 128..<min(bytes.count, 700) {
            var b = bytes
            b[i] ^= 0xFF
            try Data(b).write(to: URL(fileURLWithPath: out))
            if Self.outcome(out) != nil { errors += 1 }
        }
        #expect(errors > 0)
        // The DICM magic itself.
        var b = bytes
        b[129] ^= 0x01
        try Data(b).write(to: URL(fileURLWithPath: out))
        Self.expectError(out, "notDicom")
    }

    @Test func fileDeletedWhileReading() async throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try Fixtures.make(.init(rows: 256, cols: 256), in: dir, name: "good")
        let data = try Data(contentsOf: URL(fileURLWithPath: good))
        for i in 0..<20 {
            let p = dir.appendingPathComponent("v\(i).dcm").path
            try data.write(to: URL(fileURLWithPath: p))
            async let reader: DicomError? = Task.detached { Self.outcome(p) }.value
            try? FileManager.default.removeItem(atPath: p)
            let e = await reader
            if let e { #expect(e.path == p) }    // success (read before delete) or a typed error
        }
        let gone = dir.appendingPathComponent("gone.dcm").path
        try data.write(to: URL(fileURLWithPath: gone))
        let f = try DicomFile(path: gone)              // fully loaded into memory at open
        try FileManager.default.removeItem(atPath: gone)
        #expect(try f.decodeDisplay().pixels.values.count == 256 * 256)
        Self.expectError(gone, "fileNotFound")
    }

    @Test func nonAsciiPatientNames() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let latin1: [UInt8] = Array("M".utf8) + [0xFC] + Array("ller^J".utf8) + [0xF6] + Array("rg".utf8)
        let a = try DicomFile(path: Fixtures.make(.init(charset: "ISO_IR 100", patientName: latin1), in: dir, name: "latin1"))
        #expect(a.instance.patient.name == "Müller^Jörg")
        let utf8 = try DicomFile(path: Fixtures.make(.init(charset: "ISO_IR 192", patientName: Array("Ñandú^José=王^小明".utf8)), in: dir, name: "utf8"))
        #expect(utf8.instance.patient.name == "Ñandú^José=王^小明")
    }

    /// Fuzz: 1,200 seeded mutations of real files; each read returns a value or a typed error.
    @Test func fuzzMutations() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var seeds = [try Fixtures.make(.init(rows: 24, cols: 24), in: dir, name: "f16")]
        let rle = dir.appendingPathComponent("rle.dcm").path
        try Fixtures.run("dcmcrle", [seeds[0], rle])
        let jls = dir.appendingPathComponent("jls.dcm").path
        try Fixtures.run("dcmcjpls", [seeds[0], jls])
        seeds += [rle, jls]
        if SharedData.available { seeds.append(SharedData.path("data/dicom/fuji_dx_animal_thorax_small_MONO1_inverse.dcm")) }
        var rng = SplitMix64(0xB81C1A)
        let out = dir.appendingPathComponent("mut.dcm").path
        var ok = 0, failed = 0
        for i in 0..<1200 {
            var b = try [UInt8](Data(contentsOf: URL(fileURLWithPath: seeds[i % seeds.count])))
            let edits = 1 + Int(rng.next() % 8)
            for _ in 0..<edits {
                let pos = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 4 {
                case 0: b[pos] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b[pos] ^= 1 << UInt8(rng.next() % 8)
                case 2: b.removeSubrange(pos..<min(b.count, pos + Int(rng.next() % 64) + 1)); if b.isEmpty { b = [0] }
                default: b.insert(contentsOf: (0..<Int(rng.next() % 16 + 1)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: pos)
                }
            }
            try Data(b).write(to: URL(fileURLWithPath: out))
            if Self.outcome(out) == nil { ok += 1 } else { failed += 1 }
        }
        #expect(ok + failed == 1200)
        #expect(failed > 0 && ok > 0)
    }
}

extension BadInputTests {
    /// JPEG 2000 goes through OpenJPEG, outside DCMTK: corrupt code streams must give typed errors too.
    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func fuzzJpeg2000CodeStream() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: SharedData.path("data/dicom/RG1_J2KI.dcm"))))
        // The code stream starts at the J2K SOC marker FF 4F FF 51.
        let marker: [UInt8] = [0xFF, 0x4F, 0xFF, 0x51]
        let found: Int? = (0..<(original.count - 4)).first { (i: Int) -> Bool in Array(original[i..<i + 4]) == marker }
        let soc = try #require(found)
        var rng = SplitMix64(0x12345)
        let out = dir.appendingPathComponent("j2k.dcm").path
        for i in 0..<24 {
            var b = original
            // Mostly the main header (first ~200 bytes), sometimes the tile data.
            let span = i % 2 == 0 ? 200 : b.count - soc
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                b[soc + Int(rng.next() % UInt64(span))] = UInt8(truncatingIfNeeded: rng.next())
            }
            try Data(b).write(to: URL(fileURLWithPath: out))
            if let e = Self.outcome(out) { #expect(e.path == out) }
        }
    }
}

