import Foundation
import Testing
@testable import DicomKit

@Suite struct OutputReadinessTests {
    @Test func uidGrammar() {
        for good in ["1.2.840.10008.1.2", "2.25.0", "0", "1.0.3", String(repeating: "1", count: 64)] {
            #expect(OutputReadiness.uidProblem(good) == nil, "\(good)")
        }
        let bad: [(String, String)] = [
            ("", "empty"), ("..", "component 1 is empty"), ("1..2", "component 2 is empty"), ("1.2.", "component 3 is empty"),
            (".1", "component 1 is empty"), ("1.2.3a", "component 3 has the non-digit 'a'"), ("01.2", "component 1 has a leading zero"),
            ("1.2 ", "component 2 has the non-digit ' '"), ("1.\u{FF11}", "component 2 has the non-digit '\u{FF11}'"),
            ("1.2\n3", "component 2 has the non-digit '\\u{A}'"),
            (String(repeating: "1", count: 65), "65 characters, more than 64"),
        ]
        for (uid, reason) in bad { #expect(OutputReadiness.uidProblem(uid) == reason, "\(uid)") }
    }

    @Test func valueRepresentations() {
        typealias R = OutputReadiness
        #expect(R.problem("DOE^JANE^^DR^MD=D^J", vr: .PN) == nil)
        #expect(R.problem("DOE\u{1B}[2J^JANE", vr: .PN) == "contains the control character \\u{1B}")
        #expect(R.problem("A\nreason: forged", vr: .LO) == "contains the control character \\u{A}")
        #expect(R.problem("A\u{85}B", vr: .LO) == "contains the control character \\u{85}")
        #expect(R.problem("A=B=C=D", vr: .PN) == "4 component groups, more than 3 (PN)")
        #expect(R.problem("A^B^C^D^E^F", vr: .PN) == "6 name components, more than 5 (PN)")
        #expect(R.problem(String(repeating: "é", count: 64), vr: .LO) == nil)
        #expect(R.problem(String(repeating: "x", count: 65), vr: .LO) == "65 characters, more than 64 (LO)")
        #expect(R.problem("A\\B", vr: .LO) == "contains a backslash (the value separator)")
        #expect(R.problem("ACC-1234567890123", vr: .SH) == "17 characters, more than 16 (SH)")
        #expect(R.problem("DX", vr: .CS) == nil)
        #expect(R.problem("dx", vr: .CS) == "has 'd', not an upper-case letter, digit, space or underscore (CS)")
        #expect(R.problem("", vr: .DA) == nil)
        #expect(R.problem("20240229", vr: .DA) == nil)
        for d in ["20230229", "20241301", "20240100", "2024-01-01", "2024011"] { #expect(R.problem(d, vr: .DA) != nil, "\(d)") }
        for t in ["23", "2359", "235960", "235959.1", "000000.123456"] { #expect(R.problem(t, vr: .TM) == nil, "\(t)") }
        for t in ["24", "2360", "12:00:00", "120000.", "120000.1234567", "1200.5", "1"] { #expect(R.problem(t, vr: .TM) != nil, "\(t)") }
        #expect(R.problem("", vr: .UI) == "not a valid UID (empty)")
    }

    @Test func fileNamesAndPrintableReasons() {
        #expect(OutputReadiness.fileNameProblem(String(repeating: "é", count: 98) + ".dcm") == nil)   // 200 bytes
        #expect(OutputReadiness.fileNameProblem(String(repeating: "é", count: 99) + ".dcm") == "file name is 202 bytes long, more than 200")
        #expect(OutputReadiness.fileNameProblem("a\rb.dcm")
                == "file name contains the control character \\u{D}")
        #expect(OutputReadiness.printable("ok\nreason: forged\u{1B}[31m") == "ok\\u{A}reason: forged\\u{1B}[31m")
        #expect(OutputReadiness.printable("\u{202E}abc") == "\\u{202E}abc")
        #expect(OutputReadiness.printable(String(repeating: "x", count: 600)).count == 515)
    }

    /// The instance-level check names the attribute, quotes the (escaped) value and says why.
    @Test func instanceProblems() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.appendingPathComponent("ok.dcm").path
        try Data(DicomBytes.chest()).write(to: URL(fileURLWithPath: p))
        let good = try DicomFile.readInstance(path: p)
        #expect(OutputReadiness.problem(of: good, fileName: "ok.dcm") == nil)
        var d = good
        d.study.instanceUID = ".."
        #expect(OutputReadiness.problem(of: d, fileName: "ok.dcm") == "StudyInstanceUID '..' is not a valid UID: component 1 is empty")
        d = good; d.series.instanceUID = "1.2.x"
        #expect(OutputReadiness.problem(of: d, fileName: "ok.dcm") == "SeriesInstanceUID '1.2.x' is not a valid UID: component 3 has the non-digit 'x'")
        d = good; d.instance.sopClassUID = ""
        #expect(OutputReadiness.problem(of: d, fileName: "ok.dcm") == "SOPClassUID '' is not a valid UID: empty")
        d = good; d.patient.name = "EVIL\u{1B}]0;x\u{7}^A"
        #expect(OutputReadiness.problem(of: d, fileName: "ok.dcm") == "PatientName 'EVIL\\u{1B}]0;x\\u{7}^A' contains the control character \\u{1B}")
        d = good; d.study.accessionNumber = "12345678901234567"
        #expect(OutputReadiness.problem(of: d, fileName: "ok.dcm") == "AccessionNumber '12345678901234567' 17 characters, more than 16 (SH)")
        d = good; d.study.time = "25"
        #expect(OutputReadiness.problem(of: d, fileName: "ok.dcm") == "StudyTime '25' not a time HH[MM[SS[.FFFFFF]]] (TM)")
        #expect(OutputReadiness.problem(of: good, fileName: String(repeating: "a", count: 250)) == "file name is 250 bytes long, more than 200")
    }
}
