import Testing
import Foundation
@testable import DicomKit

/// Lossless transfer syntaxes must decode bit-identically to the uncompressed original.
@Suite(.enabled(if: Fixtures.toolsAvailable, "needs DCMTK command-line tools (apt package dcmtk)"))
struct CodecTests {
    @Test func losslessVariantsAreBitIdentical() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = try Fixtures.make(.init(rows: 96, cols: 80, bitsStored: 12), in: dir, name: "src")
        let variants: [(String, String, [String])] = [
            ("jpegls", "dcmcjpls", []),
            ("rle", "dcmcrle", []),
            ("jpegsv1", "dcmcjpeg", ["+e1"]),
            ("jpeg14", "dcmcjpeg", ["+el"]),
            ("implicit", "dcmconv", ["+ti"]),
            ("bigendian", "dcmconv", ["+tb"]),
            ("deflate", "dcmconv", ["+td"]),
        ]
        let ref = try DicomFile(path: src)
        let refStored = try ref.decodeStored().values
        let refModality = try ref.decodeModality().values
        let refDisplay = try ref.decodeDisplay().pixels.values
        #expect(refStored.max()! > 4000 && refStored.max()! <= 4095)
        var seen = Set<String>()
        for (name, tool, args) in variants {
            let out = dir.appendingPathComponent("\(name).dcm").path
            try Fixtures.run(tool, args + [src, out])
            let f = try DicomFile(path: out)
            seen.insert(f.instance.transferSyntaxUID)
            #expect(TransferSyntax.lossless.contains(f.instance.transferSyntaxUID), "\(name): \(f.instance.transferSyntaxUID)")
            #expect(try f.decodeStored().values == refStored, "\(name) stored values differ")
            #expect(try f.decodeModality().values == refModality, "\(name) modality values differ")
            #expect(try f.decodeDisplay().pixels.values == refDisplay, "\(name) display differs")
        }
        #expect(seen.count == variants.count)
    }

    @Test func lossyJpegDecodesWithinTolerance() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = try Fixtures.make(.init(rows: 64, cols: 64, bitsAllocated: 8, bitsStored: 8, window: nil), in: dir, name: "src8")
        let out = dir.appendingPathComponent("baseline.dcm").path
        try Fixtures.run("dcmcjpeg", ["+eb", "+q", "95", src, out])
        let f = try DicomFile(path: out)
        #expect(f.instance.transferSyntaxUID == "1.2.840.10008.1.2.4.50")
        let a = try DicomFile(path: src).decodeStored().values, b = try f.decodeStored().values
        let meanErr = zip(a, b).map { Double(abs($0 - $1)) }.reduce(0, +) / Double(a.count)
        #expect(meanErr < 8)
    }

    @Test func monochrome1IsInvertedAndInverseShapeApplies() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let m2 = try DicomFile(path: Fixtures.make(.init(photometric: "MONOCHROME2"), in: dir, name: "m2")).decodeDisplay().pixels.values
        let m1 = try DicomFile(path: Fixtures.make(.init(photometric: "MONOCHROME1"), in: dir, name: "m1")).decodeDisplay().pixels.values
        #expect(zip(m1, m2).allSatisfy { abs($0 + $1 - 1) < 1e-4 })
        // MONOCHROME2 with Presentation LUT Shape INVERSE displays inverted too.
        let inv = try DicomFile(path: Fixtures.make(.init(photometric: "MONOCHROME2", extra: ["(2050,0020) CS [INVERSE]"]), in: dir, name: "inv"))
            .decodeDisplay().pixels.values
        #expect(zip(inv, m2).allSatisfy { abs($0 + $1 - 1) < 1e-4 })
    }

    @Test func voiFallsBackToMinMaxWithoutWindow() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = try DicomFile(path: Fixtures.make(.init(window: nil), in: dir, name: "nowin"))
        let (px, voi) = try f.decodeDisplay()
        #expect(voi == .minMax)
        #expect(px.values.min() == 0 && px.values.max() == 1)
    }
}
