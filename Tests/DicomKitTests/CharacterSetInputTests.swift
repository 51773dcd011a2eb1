import Foundation
import Testing
@testable import DicomKit

/// One file per Specific Character Set DCMTK can convert: each is built here with DCMTK (dump2dcm writes the
/// UTF-8 original, `dcmconv +C` re-encodes it into the set; the ISO 2022 code-extension sets, which dcmconv
/// cannot write, get the byte sequences of PS3.5 Annexes H-K), then read back through DicomFile.
@Suite("Character sets in")
struct CharacterSetInputTests {
    /// (declared set, the name in Unicode) re-encoded by dcmconv.
    static let converted: [(String, String)] = [
        ("ISO_IR 6", "SMITH^JOHN"),
        ("ISO_IR 100", "Müller^Jörg"),
        ("ISO_IR 101", "Dvořák^Łukasz"),
        ("ISO_IR 109", "Ġużeppi^Ħabib"),
        ("ISO_IR 110", "Ķēniņš^Ģirts"),
        ("ISO_IR 126", "Παπαδόπουλος^Γιώργος"),
        ("ISO_IR 127", "قباني^نزار"),
        ("ISO_IR 138", "שרון^דבורה"),
        ("ISO_IR 144", "Люксембург^Иван"),
        ("ISO_IR 148", "Öztürk^Şükrü"),
        ("ISO_IR 13", "ﾔﾏﾀﾞ^ﾀﾛｳ"),
        ("ISO_IR 166", "บุญมา^สมชาย"),
        ("ISO_IR 192", "Ñandú^José=王^小明"),
        ("GB18030", "王^小东"),
        ("GBK", "王^小东"),
    ]

    @Test(.enabled(if: Fixtures.toolsAvailable, "needs dump2dcm and dcmconv (dcmtk)"),
          arguments: converted.map { $0.0 })
    func singleByteAndMultiByteSets(_ charset: String) throws {
        let name = Self.converted.first { $0.0 == charset }!.1
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let utf8 = try Fixtures.make(.init(charset: "ISO_IR 192", patientName: Array(name.utf8)), in: dir, name: "utf8")
        let encoded = dir.appendingPathComponent("encoded.dcm").path
        try Fixtures.run("dcmconv", ["+C", charset, utf8, encoded])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: encoded))
        // The fixture really is in the set: the UTF-8 bytes of a non-ASCII name are gone (GB18030/GBK share none).
        if charset != "ISO_IR 192" && charset != "ISO_IR 6" {
            #expect(bytes.range(of: Data(name.utf8)) == nil, "\(charset): file still holds the UTF-8 name")
        }
        let d = try DicomFile(path: encoded).instance
        #expect(d.patient.name == name, "\(charset)")
        // dcmconv drops a declaration of the default repertoire (ISO_IR 6).
        #expect(d.specificCharacterSet == (charset == "ISO_IR 6" ? "" : charset))
    }

    static func esc(_ s: String) -> [UInt8] { [0x1B] + Array(s.utf8) }

    /// PS3.5 H.3.1: ISO 2022 IR 87 (JIS X 0208) in the ideographic and phonetic groups.
    static let japanese: [UInt8] = Array("Yamada^Tarou=".utf8) + esc("$B") + Array(";3ED".utf8) + esc("(B") + Array("^".utf8)
        + esc("$B") + Array("B@O:".utf8) + esc("(B") + Array("=".utf8) + esc("$B") + Array("$d$^$@".utf8) + esc("(B")
        + Array("^".utf8) + esc("$B") + Array("$?$m$&".utf8) + esc("(B")
    /// PS3.5 I.2: ISO 2022 IR 149 (KS X 1001).
    static let korean: [UInt8] = Array("Hong^Gildong=".utf8) + esc("$)C") + [0xFB, 0xF3] + Array("^".utf8) + esc("$)C")
        + [0xD1, 0xCE, 0xD4, 0xD7] + Array("=".utf8) + esc("$)C") + [0xC8, 0xAB] + Array("^".utf8) + esc("$)C")
        + [0xB1, 0xE6, 0xB5, 0xBF]

    @Test(.enabled(if: Fixtures.toolsAvailable, "needs dump2dcm (dcmtk)"))
    func iso2022CodeExtensions() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, [UInt8], String)] = [
            ("\\ISO 2022 IR 87", Self.japanese, "Yamada^Tarou=山田^太郎=やまだ^たろう"),
            ("ISO 2022 IR 6\\ISO 2022 IR 87", Self.japanese, "Yamada^Tarou=山田^太郎=やまだ^たろう"),
            ("\\ISO 2022 IR 149", Self.korean, "Hong^Gildong=洪^吉洞=홍^길동"),
        ]
        for (i, (charset, bytes, expected)) in cases.enumerated() {
            let path = try Fixtures.make(.init(charset: charset, patientName: bytes), in: dir, name: "iso2022-\(i)")
            let d = try DicomFile(path: path).instance
            #expect(d.patient.name == expected, "\(charset)")
            #expect(d.specificCharacterSet == charset)
        }
    }

    /// A set DCMTK does not know, or bytes that are invalid in the declared set, are refused with the reason:
    /// the name is never guessed.
    @Test(.enabled(if: Fixtures.toolsAvailable, "needs dump2dcm (dcmtk)"))
    func unconvertibleSetsAreRefusedWithTheReason() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let unknown = try Fixtures.make(.init(charset: "ISO_IR 999", patientName: Array("M".utf8) + [0xFC] + Array("LLER".utf8)),
                                        in: dir, name: "unknown")
        let invalid = try Fixtures.make(.init(charset: "GB18030", patientName: [0x81, 0x20, 0x5E, 0x41]), in: dir, name: "invalid")
        let badUTF8 = try Fixtures.make(.init(charset: "ISO_IR 192", patientName: Array("M".utf8) + [0xC3, 0x28] + Array("^X".utf8)),
                                        in: dir, name: "bad-utf8")
        for path in [unknown, invalid, badUTF8] {
            do {
                _ = try DicomFile(path: path)
                Issue.record("\(path) was read")
            } catch let e as DicomError {
                #expect(e.kind == "unsupportedCharacterSet")
                #expect(e.path == path)
                #expect(e.reason.contains("cannot convert Specific Character Set"), "\(e.reason)")
            }
        }
        do { _ = try DicomFile(path: unknown) } catch let e as DicomError { #expect(e.reason.contains("ISO_IR 999")) }
    }
}

/// Tags that arrive with VR UN (a PACS that did not know them) are read with the dictionary's VR.
@Suite("UN value representation")
struct UnknownVRTests {
    typealias E = DicomBytes.Element

    @Test func unTagsAreReinterpretedWithTheDictionary() throws {
        let bytes = DicomBytes.chest(overrides: [
            E(group: 0x0008, element: 0x0060, vr: "UN", value: DicomBytes.text("CT")),
            E(group: 0x0018, element: 0x5101, vr: "UN", value: DicomBytes.text("AP")),
            E(group: 0x0020, element: 0x0010, vr: "UN", value: DicomBytes.text("STUDY7")),
            E(group: 0x0028, element: 0x0030, vr: "UN", value: DicomBytes.text("0.15\\0.16")),
        ])
        let (dir, path) = try GeometryLimitTests.write(bytes, "un.dcm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = try DicomFile(path: path).instance
        #expect(d.series.modality == "CT")
        #expect(d.series.viewPosition == "AP")
        #expect(d.study.id == "STUDY7")
        #expect(d.geometry.pixelSpacing?.row == 0.15 && d.geometry.pixelSpacing?.column == 0.16)
        // The reason quotes the value in plain text, not its bytes in hex ("43\54").
        let e = InstanceSelector.eligibility(of: d)
        #expect(!e.eligible)
        #expect(e.reason.contains("'CT'"), "\(e.reason)")
        #expect(!e.reason.contains("43\\54"))
    }
}
