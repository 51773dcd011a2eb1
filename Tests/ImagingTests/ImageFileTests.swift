import Testing
import Foundation
@testable import Imaging

@Suite struct ImageFileTests {
    static func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("imaging-\(UUID().uuidString)-\(name)").path
    }

    @Test func grayPNGRoundTrip() throws {
        let p = Self.tempPath("g.png")
        defer { try? FileManager.default.removeItem(atPath: p) }
        let px = (0..<(37 * 23)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try ImageFile.writePNG(path: p, width: 37, height: 23, channels: 1, bytes: px)
        let (w, h, back) = try ImageFile.readGray8(path: p)
        #expect(w == 37 && h == 23 && back == px)
        let img = try DisplayImage.read(path: p)
        #expect(img.toGray8() == px)
    }

    @Test func colourPNGConvertsLikeOpenCVGrayscale() throws {
        let p = Self.tempPath("rgb.png")
        defer { try? FileManager.default.removeItem(atPath: p) }
        var rgb: [UInt8] = []
        var expected: [Int] = []
        for i in 0..<256 {
            let r = UInt8(i), g = UInt8((i * 37) % 256), b = UInt8((i * 91) % 256)
            rgb += [r, g, b]
            let y: Double = 0.299 * Double(r) + 0.587 * Double(g) + 0.114 * Double(b)
            expected.append(Int(y.rounded()))
        }
        try ImageFile.writePNG(path: p, width: 16, height: 16, channels: 3, bytes: rgb)
        let (_, _, gray) = try ImageFile.readGray8(path: p)
        // libpng's fixed-point rgb_to_gray (the same call OpenCV makes) is within 1 level of the float formula.
        #expect(zip(gray, expected).allSatisfy { abs(Int($0) - $1) <= 1 })
    }

    @Test func typedErrors() throws {
        let missing = Self.tempPath("missing.png")
        #expect(throws: ImagingError.cannotOpen(path: missing, reason: "No such file or directory")) {
            _ = try ImageFile.readGray8(path: missing)
        }
        let text = Self.tempPath("t.png")
        defer { try? FileManager.default.removeItem(atPath: text) }
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: ImagingError.notAnImage(path: text)) { _ = try ImageFile.readGray8(path: text) }
        // A PNG cut in half is reported as corrupt, not a crash.
        let good = Self.tempPath("good.png")
        defer { try? FileManager.default.removeItem(atPath: good) }
        try ImageFile.writePNG(path: good, width: 64, height: 64, channels: 1, bytes: (0..<4096).map { UInt8($0 % 251) })
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: text))
        #expect(throws: ImagingError.self) { _ = try ImageFile.readGray8(path: text) }
        #expect(throws: ImagingError.self) { _ = try DisplayImage(width: 2, height: 2, pixels: [0, 1, 0]) }
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func readsResearchJPEGsAndPNGs() throws {
        let dir = SharedData.path("data/cohen/images")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let jpg = try #require(files.first { $0.hasSuffix(".jpg") || $0.hasSuffix(".jpeg") })
        let png = try #require(files.first { $0.hasSuffix(".png") })
        for f in [jpg, png] {
            let img = try DisplayImage.read(path: dir + "/" + f)
            #expect(img.width > 100 && img.height > 100)
            #expect(img.maximum > img.minimum)
            #expect(Preprocessor.modelInput(from: img).count == 512 * 512)
        }
    }
}

@Suite struct PreprocessingUnitTests {
    @Test func resizeFollowsOpenCVHalfPixelRule() {
        // cv2.resize([[0, 1]], (4, 1)) == [[0, 0.25, 0.75, 1]]
        #expect(Resize.bilinear([0, 1], width: 2, height: 1, toWidth: 4, toHeight: 1) == [0, 0.25, 0.75, 1])
        let src = (0..<12).map { Double($0) / 11 }
        #expect(Resize.bilinear(src, width: 4, height: 3, toWidth: 4, toHeight: 3) == src)
        // 2x downscale samples between pixel pairs, no antialiasing.
        #expect(Resize.bilinear([0, 1, 2, 3], width: 4, height: 1, toWidth: 2, toHeight: 1) == [0.5, 2.5])
    }

    @Test func equalizeHandWorkedExamples() {
        // Half black, half white: step = (8192 - 4096) / 4096 = 1; lut[4095] = 4096 -> [0, 1].
        let v = [Double](repeating: 0, count: 4096) + [Double](repeating: 1, count: 4096)
        #expect(Equalize.equalizedLevels(v) == [Int](repeating: 0, count: 4096) + [Int](repeating: 4096, count: 4096))
        #expect(Equalize.equalize(v) == [Double](repeating: 0, count: 4096) + [Double](repeating: 1, count: 4096))
        // Too few pixels (step 0): levels are the 12-bit quantisation itself.
        #expect(Equalize.equalizedLevels([0, 0.5, 1]) == [0, 2047, 4095])
        #expect(Equalize.quantise(-0.1) == 0 && Equalize.quantise(1.5) == 4095 && Equalize.quantise(0.999999) == 4094)
        // Constant image: all zero after / max of zero levels.
        #expect(Equalize.equalize([Double](repeating: 0, count: 10)).allSatisfy { $0 == 0 })
    }

    @Test func sixteenBitDisplayValuesQuantiseTo12Bits() throws {
        // A DICOM display image arrives on the 1/65535 grid; the equaliser sees trunc(4095 v).
        let w = 600, h = 500
        let levels = (0..<(w * h)).map { UInt16(($0 * 131) % 65536) }
        let img = try DisplayImage(width: w, height: h, pixels: levels.map { Float($0) / 65535 })
        let d = Preprocessor.toDouble(img)
        #expect(zip(d, levels).allSatisfy { $0 == Double($1) / 65535 })
        let input = Preprocessor.modelInput(from: img)
        #expect(input.count == 512 * 512 && input.max() == 1 && input.min()! >= 0)
    }
}
