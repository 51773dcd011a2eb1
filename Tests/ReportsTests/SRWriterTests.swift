import BrixiaDomain
import Foundation
import Testing
@testable import Reports

@Suite("Comprehensive SR")
struct SRWriterTests {
    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dciodvfy (dicom3tools) and dsrdump/dcmdump (dcmtk)"))
    func srWithoutPriorValidatesAndCarriesScores() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = Fixtures.input(withPrior: false)
        let out = try ReportWriter().writeSR(input, to: dir)
        let path = out.path.path
        #expect(out.sopClassUID == "1.2.840.10008.5.1.4.1.1.88.33")

        let v = try Fixtures.dciodvfyErrors(path)
        #expect(v.iod.contains("ComprehensiveSR"))
        #expect(v.errors.isEmpty, "dciodvfy errors: \(v.errors)")

        let dump = try Fixtures.run("dsrdump", ["+Pc", path])
        #expect(dump.status == 0, "dsrdump failed: \(dump.stderr)")
        let zoneLines = dump.stdout.split(separator: "\n").filter { $0.contains("BRX-ZONE") }
        #expect(zoneLines.count == 6)
        let values = zoneLines.compactMap { line -> Int? in
            guard let r = line.range(of: ")=\"") else { return nil }
            return Int(line[r.upperBound...].prefix { $0 != "\"" })
        }
        #expect(values == Zone.allCases.map { Fixtures.grades[$0]! })
        #expect(dump.stdout.contains("(BRX-GLOBAL,99BRIXIA,\"Brixia score\")=\"11\""))
        for site in ["Upper zone of lung", "Middle zone of lung", "Lower zone of lung", "(24028007,SCT,\"Right\")", "(7771000,SCT,\"Left\")"] {
            #expect(dump.stdout.contains(site), "missing \(site)")
        }
        #expect(dump.stdout.contains("(126000,DCM,\"Imaging Measurement Report\")"))
        #expect(dump.stdout.contains("Image Library"))
        #expect(dump.stdout.contains("Tracking Unique Identifier"))
        #expect(dump.stdout.contains("\"BS-Net\"") && dump.stdout.contains("\"1.0.0\""))
        #expect(dump.stdout.contains("not verified by a physician"))
        // dsrdump shortens long TEXT values; the full weights checksum is in the TextValue attributes.
        let texts = try Fixtures.run("dcmdump", ["+L", "+P", "TextValue", path]).stdout
        #expect(texts.contains("weights SHA-256 \(input.model.weightsSHA256)"))
        #expect(!dump.stdout.contains("BRX-DELTA"))

        #expect(try Fixtures.tag(path, "StudyInstanceUID") == [Fixtures.studyUID])
        #expect(try Fixtures.tag(path, "SeriesInstanceUID") == [out.seriesInstanceUID])
        #expect(try Fixtures.tag(path, "SOPInstanceUID") == [out.sopInstanceUID])
        #expect(out.seriesInstanceUID != Fixtures.source.seriesInstanceUID && out.sopInstanceUID != Fixtures.source.sopInstanceUID)
        #expect(out.sopInstanceUID.hasPrefix("2.25."))
        #expect(try Fixtures.tag(path, "VerificationFlag") == ["UNVERIFIED"])
        #expect(try Fixtures.tag(path, "CompletionFlag") == ["COMPLETE"])
        #expect(try Fixtures.tag(path, "Manufacturer") == ["Brixia"])
        #expect(try Fixtures.tag(path, "PatientID") == ["BRX-0042"])
        #expect(try Fixtures.tag(path, "SeriesDescription").first?.hasPrefix("Brixia") == true)
        let evidence = try Fixtures.tag(path, "(0040,a375).(0008,1115).(0008,1199).(0008,1155)")
        #expect(evidence == [Fixtures.source.sopInstanceUID])
        #expect(try Fixtures.tag(path, "(0040,a385).(0020,000d)").isEmpty)
        #expect(try Fixtures.tag(path, "(0008,0110).(0008,0102)").contains("99BRIXIA"))
        // Nothing but the final file is left in the directory (the temp file was renamed).
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [out.path.lastPathComponent])
    }

    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dciodvfy (dicom3tools) and dsrdump/dcmdump (dcmtk)"))
    func srWithPriorReferencesPriorAndChange() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let out = try ReportWriter().writeSR(Fixtures.input(withPrior: true), to: dir)
        let path = out.path.path
        let v = try Fixtures.dciodvfyErrors(path)
        #expect(v.errors.isEmpty, "dciodvfy errors: \(v.errors)")
        let dump = try Fixtures.run("dsrdump", ["+Pc", path])
        #expect(dump.status == 0)
        #expect(dump.stdout.contains("(BRX-DELTA,99BRIXIA,\"Brixia score change from prior\")=\"4\""))
        #expect(dump.stdout.contains("(BRX-PRIOR,99BRIXIA,\"Brixia score of prior exam\")=\"7\""))
        #expect(dump.stdout.contains("(BRX-WORSE,99BRIXIA,\"Worse than prior exam\")"))
        #expect(dump.stdout.contains("BRX-ALERT-WORSE"))
        #expect(try Fixtures.tag(path, "(0040,a385).(0020,000d)") == [Fixtures.priorStudyUID])
        #expect(try Fixtures.tag(path, "(0040,a385).(0008,1115).(0008,1199).(0008,1155)")
                == [Fixtures.priorImage.sopInstanceUID])
        #expect(try Fixtures.tag(path, "(0040,a375).(0008,1115).(0008,1199).(0008,1155)")
                == [Fixtures.source.sopInstanceUID])
        #expect(try Fixtures.tag(path, "StudyInstanceUID") == [Fixtures.studyUID])
    }

    @Test func everyWriteGetsNewUIDs() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let w = ReportWriter()
        let a = try w.writeSR(Fixtures.input(withPrior: false), to: dir)
        let b = try w.writeSR(Fixtures.input(withPrior: false), to: dir)
        #expect(a.sopInstanceUID != b.sopInstanceUID && a.seriesInstanceUID != b.seriesInstanceUID)
        #expect(a.path != b.path)
    }

    @Test func customUIDRoot() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let out = try ReportWriter(uidRoot: "1.2.826.0.1.3680043.10.1").writeSR(Fixtures.input(withPrior: false), to: dir)
        #expect(out.sopInstanceUID.hasPrefix("1.2.826.0.1.3680043.10.1.") && out.sopInstanceUID.utf8.count <= 64)
        #expect(throws: ReportError.self) {
            try ReportWriter(uidRoot: "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20").writeSR(Fixtures.input(withPrior: false), to: dir)
        }
    }
}

@Suite("Character sets")
struct CharacterSetTests {
    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dciodvfy (dicom3tools) and dcmdump (dcmtk)"))
    func nonASCIIPatientNameIsUTF8() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        var input = Fixtures.input(withPrior: false)
        input.patient.name = "MÜLLER^JÖRG"
        let sr = try ReportWriter().writeSR(input, to: dir)
        let sc = try ReportWriter().writeSecondaryCapture(input, trend: [], to: dir)
        for out in [sr, sc] {
            let v = try Fixtures.dciodvfyErrors(out.path.path)
            #expect(v.errors.isEmpty, "dciodvfy errors: \(v.errors)")
            #expect(try Fixtures.tag(out.path.path, "SpecificCharacterSet") == ["ISO_IR 192"])
            #expect(try Fixtures.tag(out.path.path, "PatientName") == ["MÜLLER^JÖRG"])
        }
        // ASCII-only input keeps the default repertoire.
        let ascii = try ReportWriter().writeSR(Fixtures.input(withPrior: false), to: dir)
        #expect(try Fixtures.tag(ascii.path.path, "SpecificCharacterSet").isEmpty)
    }
}

@Suite("Minimal inputs")
struct MinimalInputTests {
    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dciodvfy (dicom3tools) and dsrdump (dcmtk)"))
    func optionalPartsAbsentStillValidates() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        var input = Fixtures.input(withPrior: true)
        input.change = nil                       // prior known but no change computed
        input.alerts = []
        input.scores.confidence = nil
        input.scores.zones = input.scores.zones.map { ZoneScore(zone: $0.zone, grade: $0.grade) }
        input.patient = PatientInfo(id: "X1", name: "")
        input.study = StudyInfo(studyInstanceUID: Fixtures.studyUID)
        input.equipment = EquipmentInfo(softwareVersion: "0.1.0", deviceUID: "2.25.1234")
        let sr = try ReportWriter().writeSR(input, to: dir)
        let sc = try ReportWriter().writeSecondaryCapture(input, trend: [], to: dir)
        for o in [sr, sc] {
            let v = try Fixtures.dciodvfyErrors(o.path.path)
            #expect(v.errors.isEmpty, "dciodvfy errors in \(o.path.lastPathComponent): \(v.errors)")
        }
        let dump = try Fixtures.run("dsrdump", ["+Pc", sr.path.path])
        #expect(dump.status == 0)
        #expect(!dump.stdout.contains("BRX-P0") && !dump.stdout.contains("BRX-CONF") && !dump.stdout.contains("BRX-DELTA"))
        #expect(dump.stdout.contains("\"2.25.1234\""))
        #expect(try Fixtures.tag(sr.path.path, "(0040,a385).(0020,000d)") == [Fixtures.priorStudyUID])
    }
}
