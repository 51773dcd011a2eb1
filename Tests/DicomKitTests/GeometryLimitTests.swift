import Foundation
import Testing
@testable import DicomKit

/// Declared geometry against the Pixel Data length and the limits, checked before any image-sized allocation.
@Suite struct GeometryLimitTests {
    typealias E = DicomBytes.Element

    static func write(_ bytes: [UInt8], _ name: String = "g.dcm") throws -> (URL, String) {
        let dir = try Fixtures.tempDir()
        let p = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return (dir, p)
    }

    /// The DicomError of checkPixelGeometry (header only) and of decodeDisplay, which must agree.
    static func errors(_ bytes: [UInt8], limits: DicomLimits = .default) throws -> (DicomError?, DicomError?) {
        let (dir, p) = try write(bytes)
        defer { try? FileManager.default.removeItem(at: dir) }
        let f: DicomFile
        do { f = try DicomFile(path: p, limits: limits) } catch let e as DicomError { return (e, e) }
        var header: DicomError?, decode: DicomError?
        do { try f.checkPixelGeometry() } catch let e as DicomError { header = e }
        do { _ = try f.decodeDisplay() } catch let e as DicomError { decode = e }
        return (header, decode)
    }

    static func us(_ element: UInt16, _ v: UInt16) -> E { E(group: 0x0028, element: element, vr: "US", value: DicomBytes.us(v)) }

    @Test func headerBombIsRefusedWithTheDeclaredAndActualSizes() throws {
        let (h, d) = try Self.errors(DicomBytes.chest(rows: 65535, cols: 65535, pixelBytes: 1024))
        #expect(h?.kind == "pixelDataTooShort")
        #expect(h?.reason == "pixel data too short: declared 65535x65535x1 16-bit = 8.0 GiB but Pixel Data holds 1.0 KiB")
        #expect(d == h)
        // The bomb allocated nothing image-sized: this process never came near 8 GiB.
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        #expect(u.ru_maxrss < 1 << 20, "peak RSS \(u.ru_maxrss) KiB")
    }

    @Test func nativeLengthMustMatchExactly() throws {
        #expect(try Self.errors(DicomBytes.chest()).0 == nil)
        let (long, _) = try Self.errors(DicomBytes.chest(rows: 256, cols: 256, pixelBytes: 256 * 256 * 2 + 64))
        #expect(long?.kind == "invalidGeometry")
        #expect(long?.reason.contains("longer than declared: 256x256x1 16-bit = 128.0 KiB but Pixel Data holds 128.1 KiB") == true, "\(String(describing: long))")
        let (short, _) = try Self.errors(DicomBytes.chest(rows: 256, cols: 256, pixelBytes: 256 * 256 * 2 - 2))
        #expect(short?.kind == "pixelDataTooShort")
        // Three frames declared, one present.
        let (frames, _) = try Self.errors(DicomBytes.chest(overrides: [E(group: 0x0028, element: 0x0008, vr: "IS", value: DicomBytes.text("3"))]))
        #expect(frames?.reason.contains("declared 256x256x3 16-bit = 384.0 KiB") == true, "\(String(describing: frames))")
        // An 8-bit odd-sized image keeps its single pad byte.
        let odd = DicomBytes.chest(rows: 17, cols: 17, pixelBytes: 17 * 17,
                                   overrides: [Self.us(0x0100, 8), Self.us(0x0101, 8), Self.us(0x0102, 7)])
        let (h, d) = try Self.errors(odd)
        #expect(h == nil && d == nil, "\(String(describing: h)) \(String(describing: d))")
    }

    @Test func limitsAreConfigurable() throws {
        let img = DicomBytes.chest(rows: 256, cols: 300)
        #expect(try Self.errors(img, limits: DicomLimits(maxRows: 256, maxColumns: 300)).1 == nil)
        let (rows, d) = try Self.errors(img, limits: DicomLimits(maxRows: 255))
        #expect(rows?.kind == "limitExceeded")
        #expect(rows?.reason == "over the input limits: declared image size 300x256 is over the limit of 16384x255")
        #expect(d == rows)
        let (px, _) = try Self.errors(img, limits: DicomLimits(maxPixels: 76_799))
        #expect(px?.reason.contains("76800 pixels, over the limit of 76799") == true, "\(String(describing: px))")
        let (file, _) = try Self.errors(img, limits: DicomLimits(maxFileBytes: 100_000))
        #expect(file?.kind == "limitExceeded")
        #expect(file?.reason.contains("file is 150.") == true && file?.reason.contains("over the limit of 97.7 KiB") == true,
                "\(String(describing: file))")
        let threeFrames = DicomBytes.chest(rows: 16, cols: 16, pixelBytes: 16 * 16 * 2 * 3,
                                           overrides: [E(group: 0x0028, element: 0x0008, vr: "IS", value: DicomBytes.text("3"))])
        #expect(try Self.errors(threeFrames, limits: DicomLimits(maxFrames: 2)).0?.reason.contains("3 frames, over the limit of 2") == true)
        // Within the limits the same file is only refused for being multi-frame.
        #expect(try Self.errors(threeFrames).1?.kind == "multiFrame")
    }

    @Test func inconsistentAttributesAreNamed() throws {
        let cases: [(E, String)] = [
            (Self.us(0x0101, 17), "invalid BitsStored '17'"),
            (Self.us(0x0100, 12), "invalid BitsAllocated '12'"),
            (Self.us(0x0102, 20), "invalid HighBit '20'"),
            (Self.us(0x0103, 2), "invalid PixelRepresentation '2'"),
            (Self.us(0x0002, 0), "invalid SamplesPerPixel '0'"),
            (Self.us(0x0010, 0), "invalid Rows '0'"),
            (E(group: 0x0028, element: 0x0008, vr: "IS", value: DicomBytes.text("0")), "invalid NumberOfFrames '0'"),
            (E(group: 0x0028, element: 0x0008, vr: "IS", value: DicomBytes.text("-4")), "invalid NumberOfFrames '-4'"),
            (E(group: 0x0028, element: 0x0008, vr: "IS", value: DicomBytes.text("x\u{1B}")), "invalid NumberOfFrames 'x\\x1b'"),
        ]
        for (override, reason) in cases {
            let (h, d) = try Self.errors(DicomBytes.chest(overrides: [override]))
            #expect(h?.kind == "invalidGeometry", "\(reason): \(String(describing: h))")
            #expect(h?.reason.hasPrefix(reason) == true, "\(reason): \(String(describing: h))")
            #expect(d != nil)
        }
        // Colour with a Planar Configuration other than 0/1.
        let rgb = DicomBytes.chest(rows: 16, cols: 16, pixelBytes: 16 * 16 * 3,
                                   overrides: [Self.us(0x0002, 3), Self.us(0x0006, 7), Self.us(0x0100, 8), Self.us(0x0101, 8),
                                               Self.us(0x0102, 7), E(group: 0x0028, element: 0x0004, vr: "CS", value: DicomBytes.text("RGB"))])
        #expect(try Self.errors(rgb).0?.reason.hasPrefix("invalid PlanarConfiguration '7'") == true)
    }

    @Test(.enabled(if: Fixtures.toolsAvailable, "needs DCMTK command-line tools (apt package dcmtk)"))
    func encapsulatedFramesNeedFragments() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = try Fixtures.make(.init(rows: 16, cols: 16), in: dir, name: "src")
        let rle = dir.appendingPathComponent("rle.dcm").path
        try Fixtures.run("dcmcrle", [src, rle])
        #expect(throws: Never.self) { try DicomFile(path: rle).decodeDisplay() }
        try Fixtures.run("dcmodify", ["-nb", "-i", "(0028,0008)=40000", rle])
        let (h, d) = try Self.errors([UInt8](Data(contentsOf: URL(fileURLWithPath: rle))))
        #expect(h?.reason == "declared 40000 frames but the encapsulated Pixel Data has 1 fragments", "\(String(describing: h))")
        #expect(d == h)
    }

    /// DCMTK inflates a Deflated Explicit VR LE dataset while reading it: its inflated size is bounded too.
    @Test(.enabled(if: Fixtures.toolsAvailable, "needs DCMTK command-line tools (apt package dcmtk)"))
    func deflatedDatasetIsBoundedByItsInflatedSize() throws {
        let (dir, src) = try Self.write(DicomBytes.chest(rows: 256, cols: 256))
        defer { try? FileManager.default.removeItem(at: dir) }
        let deflated = dir.appendingPathComponent("deflated.dcm").path
        try Fixtures.run("dcmconv", ["+td", src, deflated])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: deflated)[.size] as? Int)
        #expect(size < 100_000)
        #expect(throws: Never.self) { try DicomFile(path: deflated, limits: DicomLimits(maxFileBytes: 200_000)).decodeDisplay() }
        #expect(throws: DicomError.limitExceeded(path: deflated, reason: "the deflated dataset inflates to more than 97.7 KiB, the limit for DICOM input")) {
            try DicomFile(path: deflated, limits: DicomLimits(maxFileBytes: 100_000))
        }
    }
}
