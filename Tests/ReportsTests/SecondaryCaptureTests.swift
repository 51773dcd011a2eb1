import Foundation
import Testing
@testable import Reports

@Suite("Secondary Capture and PNG")
struct SecondaryCaptureTests {
    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dciodvfy (dicom3tools) and dcmdump (dcmtk)"))
    func scValidatesAndJoinsTheStudy() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        for prior in [false, true] {
            let out = try ReportWriter().writeSecondaryCapture(Fixtures.input(withPrior: prior), trend: Fixtures.trend, to: dir)
            let path = out.path.path
            let v = try Fixtures.dciodvfyErrors(path)
            #expect(v.iod.contains("SC"), "dciodvfy IOD line: \(v.iod)")
            #expect(v.errors.isEmpty, "dciodvfy errors: \(v.errors)")
            #expect(try Fixtures.tag(path, "SOPClassUID") == ["1.2.840.10008.5.1.4.1.1.7"])
            #expect(try Fixtures.tag(path, "StudyInstanceUID") == [Fixtures.studyUID])
            #expect(try Fixtures.tag(path, "SeriesInstanceUID") == [out.seriesInstanceUID])
            #expect(try Fixtures.tag(path, "BurnedInAnnotation") == ["YES"])
            #expect(try Fixtures.tag(path, "ConversionType") == ["WSD"])
            #expect(try Fixtures.tag(path, "Manufacturer") == ["Brixia"])
            #expect(try Fixtures.tag(path, "PhotometricInterpretation") == ["RGB"])
            #expect(try Fixtures.tag(path, "SeriesDescription").first?.hasPrefix("Brixia") == true)
            #expect(try Fixtures.tag(path, "(0008,2112).(0008,1155)") == [Fixtures.source.sopInstanceUID])
        }
    }

    @Test func renderingShowsGradeColoursAndDisclaimerBand() throws {
        let img = ReportRenderer.render(Fixtures.input(withPrior: true), trend: Fixtures.trend)
        #expect(img.width == 1024 && img.height == 768)
        // Centre of zone A (right upper) is grade 1 = yellow, zone D (left upper) is grade 0 = green.
        func count(_ c: RGBImage.Color, x: ClosedRange<Int>, y: ClosedRange<Int>) -> Int {
            var n = 0
            for yy in y { for xx in x where img.pixel(xx, yy) == c { n += 1 } }
            return n
        }
        #expect(count(ReportRenderer.gradeColor(1), x: 100...200, y: 230...300) > 500)
        #expect(count(ReportRenderer.gradeColor(0), x: 330...430, y: 230...300) > 500)
        #expect(count(ReportRenderer.gradeColor(3), x: 100...200, y: 470...520) > 500)
        // Red disclaimer band at the bottom, with white text in it.
        #expect(count(ReportRenderer.alertRed, x: 0...1023, y: 740...767) > 15_000)
        #expect(count(ReportRenderer.white, x: 0...1023, y: 740...767) > 200)
    }

    @Test func pngIsWellFormed() throws {
        let png = try ReportWriter().renderPNG(Fixtures.input(withPrior: true), trend: Fixtures.trend)
        let b = [UInt8](png)
        #expect(Array(b.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(png.count < 200_000, "PNG is \(png.count) bytes")
        // Walk the chunks and check every CRC.
        var pos = 8, types: [String] = []
        while pos + 8 <= b.count {
            let len = Int(b[pos]) << 24 | Int(b[pos + 1]) << 16 | Int(b[pos + 2]) << 8 | Int(b[pos + 3])
            let typed = Data(b[(pos + 4)..<(pos + 8 + len)])
            let crc = UInt32(b[pos + 8 + len]) << 24 | UInt32(b[pos + 9 + len]) << 16 | UInt32(b[pos + 10 + len]) << 8 | UInt32(b[pos + 11 + len])
            #expect(Self.crc32(typed) == crc)
            types.append(String(decoding: typed.prefix(4), as: UTF8.self))
            pos += 12 + len
        }
        #expect(types.first == "IHDR" && types.last == "IEND" && types.contains("IDAT"), "\(types)")
    }

    /// CRC-32 of PNG chunks (ISO 3309), written here so the check does not trust the encoder's library.
    static func crc32(_ d: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in d {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }

    @Test(.enabled(if: Fixtures.which("python3") != nil, "needs python3 to inflate the PNG independently"))
    func pngInflatesToTheSamePixels() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("report.png")
        let input = Fixtures.input(withPrior: true)
        try ReportWriter().writePNG(input, trend: Fixtures.trend, to: url)
        let img = ReportRenderer.render(input, trend: Fixtures.trend)
        // Independent decoder: zlib + the five PNG filters reversed in Python; prints a checksum of the RGB bytes.
        let script = """
        import sys, zlib, struct, hashlib
        d = open(sys.argv[1], 'rb').read(); p = 8; idat = b''
        while p < len(d):
            n, t = struct.unpack('>I4s', d[p:p+8]); body = d[p+8:p+8+n]; p += 12 + n
            if t == b'IHDR': w, h = struct.unpack('>II', body[:8])
            if t == b'IDAT': idat += body
        raw = zlib.decompress(idat); s = w * 3; prev = bytearray(s); out = bytearray()
        for y in range(h):
            f = raw[y*(s+1)]; row = bytearray(raw[y*(s+1)+1:(y+1)*(s+1)])
            assert f in (0, 1, 2, 3, 4)
            for i in range(s):
                a = row[i-3] if i >= 3 else 0; b = prev[i]; c = prev[i-3] if i >= 3 else 0
                if f == 1: row[i] = (row[i] + a) & 255
                if f == 2: row[i] = (row[i] + b) & 255
                if f == 3: row[i] = (row[i] + (a + b) // 2) & 255
                if f == 4:
                    q = a + b - c; pa, pb, pc = abs(q - a), abs(q - b), abs(q - c)
                    row[i] = (row[i] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
            out += row; prev = row
        print(hashlib.sha256(out).hexdigest())
        """
        let r = try Fixtures.run("python3", ["-c", script, url.path])
        #expect(r.status == 0, "python: \(r.stderr)")
        let expected = Data(img.pixels)
        let hex = try Fixtures.run("python3", ["-c", "import sys,hashlib;print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
                                               { let u = dir.appendingPathComponent("raw"); try expected.write(to: u); return u.path }()])
        #expect(r.stdout == hex.stdout)
    }

    @Test func uidDecimalIsExact() {
        let all = UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))
        #expect(DicomUID.decimal(of: all) == "340282366920938463463374607431768211455")
        let one = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0))
        #expect(DicomUID.decimal(of: one) == "256")
        #expect(DicomUID.isValid("2.25.256") && !DicomUID.isValid("2.25.0256") && !DicomUID.isValid("2..5"))
    }

    @Test func fontCoversLatinGreekCyrillicButNotCJK() {
        for face in [BitmapFont.Face.regular13, .regular16, .bold16, .bold26] {
            let f = BitmapFont.face(face)
            #expect(f.covers("Müller^Jörg") && f.covers("Dvořák^Łukasz Ő") && f.covers("Παπαδόπουλος^Γιώργος")
                    && f.covers("Люксембург^Иван"), "face \(face)")
            #expect(!f.covers("山田^太郎") && !f.covers("שרה") && !f.covers("\u{FFFD}"), "face \(face)")
        }
        let f = BitmapFont.face(.regular16)
        #expect(f.width("Müller") > f.width("Mller"))
        #expect(f.width("Иван") > f.width("Ива"))
        #expect(f.width("W") > f.width("i"))
    }

    /// The name line of the page is drawn from the name's letters: two Cyrillic names that differ in one letter
    /// render differently, and a name the font cannot draw renders exactly as the placeholder text does.
    @Test func renderedNameLineShowsCyrillicAndFallsBackForCJK() {
        func nameLine(_ name: String) -> [UInt8] {
            var input = Fixtures.input(withPrior: false)
            input.patient.name = name
            let img = ReportRenderer.render(input, trend: [])
            return (64...88).flatMap { y in (20...500).flatMap { x -> [UInt8] in let c = img.pixel(x, y); return [c.r, c.g, c.b] } }
        }
        #expect(nameLine("Люксембург^Иван") != nameLine("Люксембург^Ивак"))
        #expect(nameLine("Люксембург^Иван") != nameLine(ReportText.unrenderableName))
        #expect(nameLine("王^小明") == nameLine(ReportText.unrenderableName))
        #expect(nameLine("Yamada^Tarou=山田^太郎") == nameLine("Yamada^Tarou"))
    }

    @Test func namesFallBackToADrawableGroupOrAPlaceholder() {
        #expect(ReportText.name("Люксембург^Иван") == "Люксембург Иван")
        // Japanese PN: alphabetic = ideographic = phonetic; the alphabetic group is drawn.
        #expect(ReportText.name("Yamada^Tarou=山田^太郎=やまだ^たろう") == "Yamada Tarou")
        // Only ideographic: the placeholder, never "?" or replacement boxes.
        #expect(ReportText.name("=王^小明") == ReportText.unrenderableName)
        #expect(ReportText.name("王^小明") == ReportText.unrenderableName)
        #expect(ReportText.text("东方医院") == ReportText.unrenderableText)
        #expect(ReportText.text("ACC-17") == "ACC-17")
        #expect(BitmapFont.face(.bold16).covers(ReportText.unrenderableName))
    }
}

@Suite("Robustness")
struct RobustnessTests {
    @Test func longTextIsCutBeforeTheNextColumn() {
        var input = Fixtures.input(withPrior: true)
        input.patient.name = String(repeating: "VERYLONGFAMILYNAME", count: 10) + "^X"
        input.alerts = Array(repeating: ReportAlert(code: "BRX-ALERT-X", meaning: String(repeating: "W", count: 64)), count: 7)
        let img = ReportRenderer.render(input, trend: Fixtures.trend)
        // The gap between the identifier columns (x 502...517) stays background on the name line.
        for y in 68...88 { for x in 502...517 { #expect(img.pixel(x, y) == ReportRenderer.white) } }
        // Alert lines end before the right margin.
        for y in 300...420 { for x in 1010...1023 { #expect(img.pixel(x, y) == ReportRenderer.white) } }
    }

    @Test func trendHandlesEdgeCases() {
        let input = Fixtures.input(withPrior: false)
        // Empty history, unsorted and duplicate dates, malformed dates, out-of-range values: no crash.
        for trend in [[], [TrendPoint(date: "2020-01-01", global: 3)],
                      [TrendPoint(date: "20200324", global: 11), TrendPoint(date: "20200101", global: 40),
                       TrendPoint(date: "20200101", global: -2)],
                      (1...40).map { TrendPoint(date: String(format: "202001%02d", min($0, 28)), global: $0 % 19) }] {
            let img = ReportRenderer.render(input, trend: trend)
            #expect(img.pixels.count == 1024 * 768 * 3)
        }
        #expect(ReportRenderer.mergedTrend(input, []).map(\.date) == ["20200324"])
    }

    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dsrdump (dcmtk)"))
    func concurrentWritesAreIndependent() async throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let outs = try await withThrowingTaskGroup(of: WrittenObject.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let input = Fixtures.input(withPrior: i % 2 == 0)
                    return i % 4 == 3 ? try ReportWriter().writeSecondaryCapture(input, trend: Fixtures.trend, to: dir)
                                      : try ReportWriter().writeSR(input, to: dir)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(outs.map(\.sopInstanceUID)).count == 8)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 8)
        for o in outs where o.sopClassUID == ReportWriter.srSOPClassUID {
            #expect(try Fixtures.run("dsrdump", [o.path.path]).status == 0)
        }
    }
}
