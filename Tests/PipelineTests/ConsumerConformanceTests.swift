import BrixiaDomain
import DicomKit
import Foundation
import Reports
import Store
import Testing
@testable import Pipeline

/// Brixia's outputs as their consumers read them: two exams of one patient (a Cyrillic name in ISO_IR 144,
/// every study-level attribute set) go through the pipeline's one mapping (ReportsSink.patientAndStudy) and
/// tracking derivation into an SR each, a rendered SC and a SEG; then Tests/Consumers/check_outputs.py reads
/// them with highdicom (srread + Measurement Report API, segread by source instance), compares the study-level
/// attributes with the source and has Orthanc ingest source and outputs in both orders. dciodvfy checks each.
@Suite(.serialized) struct ConsumerConformanceTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tools = ["/usr/bin/dump2dcm", "/usr/bin/dcmconv", "/usr/bin/dciodvfy"]
    static var available: Bool { tools.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) } }

    static func run(_ path: String, _ args: [String], env: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let env { p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 } }
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        try p.run()
        let d = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: d, as: UTF8.self))
    }

    /// A DX chest image with every study-level attribute, written in UTF-8 by dump2dcm, re-encoded to ISO_IR 144.
    static func source(in dir: URL, name: String, study: String, date: String, accession: String) throws -> URL {
        let raw = dir.appendingPathComponent("\(name).raw")
        try Data((0..<(64 * 64)).flatMap { i -> [UInt8] in let v = UInt16((i * 37) % 4096); return [UInt8(v & 0xFF), UInt8(v >> 8)] })
            .write(to: raw)
        let lines = [
            "(0002,0010) UI =LittleEndianExplicit",
            "(0008,0005) CS [ISO_IR 192]",
            "(0008,0008) CS [ORIGINAL\\PRIMARY]",
            "(0008,0016) UI [1.2.840.10008.5.1.4.1.1.1.1]",
            "(0008,0018) UI [\(study).1.1]",
            "(0008,0020) DA [\(date)]", "(0008,0030) TM [101500]",
            "(0008,0050) SH [\(accession)]",
            "(0008,0051) SQ (Sequence with undefined length #=1)",
            "(fffe,e000) na (Item with undefined length #=2)",
            "(0040,0031) UT [RIS-BS]",
            "(fffe,e00d) na (ItemDelimitationItem)",
            "(fffe,e0dd) na (SequenceDelimitationItem)",
            "(0008,0060) CS [DX]", "(0008,0068) CS [FOR PRESENTATION]",
            "(0008,0090) PN [Петров^Сергей]",
            "(0008,0201) SH [+0300]",
            "(0008,1030) LO [Рентген грудной клетки]",
            "(0010,0010) PN [Люксембург^Иван]",
            "(0010,0020) LO [BRX-CYR-1]", "(0010,0021) LO [HOSP-MSK]",
            "(0010,0030) DA [19580314]", "(0010,0040) CS [M]",
            "(0010,1002) SQ (Sequence with undefined length #=1)",
            "(fffe,e000) na (Item with undefined length #=3)",
            "(0010,0020) LO [OTHER-77]", "(0010,0021) LO [HOSP-SPB]", "(0010,0022) CS [TEXT]",
            "(fffe,e00d) na (ItemDelimitationItem)",
            "(fffe,e0dd) na (SequenceDelimitationItem)",
            "(0010,1010) AS [067Y]",
            "(0018,0015) CS [CHEST]", "(0018,5101) CS [AP]",
            "(0020,000d) UI [\(study)]", "(0020,000e) UI [\(study).1]",
            "(0020,0010) SH [ST-\(name.uppercased())]", "(0020,0011) IS [1]", "(0020,0013) IS [1]",
            "(0020,0020) CS [R\\F]",
            "(0028,0002) US 1", "(0028,0004) CS [MONOCHROME2]",
            "(0028,0010) US 64", "(0028,0011) US 64", "(0028,0030) DS [0.5\\0.5]",
            "(0028,0100) US 16", "(0028,0101) US 12", "(0028,0102) US 11", "(0028,0103) US 0",
            "(0028,1050) DS [2048]", "(0028,1051) DS [4096]",
            "(7fe0,0010) OW =\(raw.path)",
        ]
        let dump = dir.appendingPathComponent("\(name).dump")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: dump)
        let utf8 = dir.appendingPathComponent("\(name).utf8.dcm")
        var r = try run("/usr/bin/dump2dcm", ["-q", dump.path, utf8.path])
        guard r.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: r.output]) }
        let out = dir.appendingPathComponent("\(name).dcm")
        r = try run("/usr/bin/dcmconv", ["+C", "ISO_IR 144", utf8.path, out.path])
        guard r.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: r.output]) }
        for f in [raw, dump, utf8] { try? FileManager.default.removeItem(at: f) }
        return out
    }

    static func input(_ d: DicomInstance, installation: InstallationIdentity, global: Int) -> ReportInput {
        let (patient, study) = ReportsSink.patientAndStudy(d, studyInstanceUID: d.study.instanceUID)
        let grades = [1, 2, 3, 0, 2, global - 8]
        let zones = zip(Zone.allCases, grades).map { z, g -> ZoneScore in
            var p = [0.05, 0.05, 0.05, 0.05]; p[g] = 0.85
            return ZoneScore(zone: z, grade: g, probabilities: p)
        }
        return ReportInput(
            patient: patient, study: study,
            source: SourceImage(sopClassUID: d.instance.sopClassUID, sopInstanceUID: d.instance.sopInstanceUID,
                                seriesInstanceUID: d.series.instanceUID, modality: d.series.modality, viewPosition: d.series.viewPosition,
                                rows: d.geometry.rows, columns: d.geometry.columns, patientOrientation: d.instance.patientOrientation,
                                pixelSpacing: d.geometry.pixelSpacing.map { ($0.row, $0.column) }),
            scores: BrixiaScores(zones: zones, global: global, confidence: 0.8),
            model: ModelIdentity(name: "BS-Net", version: "1.0.0", weightsSHA256: String(repeating: "ab", count: 32)),
            equipment: EquipmentInfo(softwareVersion: "test", deviceUID: installation.deviceObserverUID),
            tracking: TrackingDerivation.uids(installation: installation, patientID: patient.id, issuer: patient.issuer))
    }

    @Test(.enabled(if: available, "needs dump2dcm, dcmconv (dcmtk) and dciodvfy (dicom3tools)"), .timeLimit(.minutes(15)))
    func highdicomAndOrthancReadEveryOutput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-consumers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("outputs")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let store = try BrixiaStore(path: dir.appendingPathComponent("brixia.sqlite").path)
        let installation = try store.installationIdentity(orCreate: TrackingDerivation.freshInstallation)
        #expect(try store.installationIdentity(orCreate: TrackingDerivation.freshInstallation) == installation)

        let first = try Self.source(in: dir, name: "exam1", study: "2.25.4711001", date: "20260301", accession: "ACC-1")
        let second = try Self.source(in: dir, name: "exam2", study: "2.25.4711002", date: "20260305", accession: "ACC-2")
        let d1 = try DicomFile(path: first.path).instance, d2 = try DicomFile(path: second.path).instance
        #expect(d1.patient.name == "Люксембург^Иван" && d1.specificCharacterSet == "ISO_IR 144")
        let writer = ReportWriter()
        var written: [(String, URL)] = [("source1", first), ("source2", second)]
        func keep(_ w: WrittenObject, _ name: String) throws {
            let dst = out.appendingPathComponent(name)
            try FileManager.default.moveItem(at: w.path, to: dst)
            written.append((name, dst))
        }
        let in1 = Self.input(d1, installation: installation, global: 9)
        try keep(try writer.writeSR(in1, to: dir), "exam1.sr.dcm")
        try keep(try writer.writeSecondaryCapture(in1, trend: [], to: dir), "exam1.sc.dcm")
        let fractions = (0..<(64 * 64)).map { UInt8(truncatingIfNeeded: $0 % 256) }
        try keep(try writer.writeFractionalSegmentation(
            fractions, rows: 64, columns: 64, for: in1, patientOrientation: d1.instance.patientOrientation,
            pixelSpacing: d1.geometry.pixelSpacing.map { ($0.row, $0.column) }, seriesNumber: 9904,
            seriesDescription: "Brixia AI relevance map", segmentLabel: "Relevance",
            segmentDescription: "AI generated, not for diagnostic use",
            property: .init(category: .init("85756007", "SCT", "Tissue"), type: .init("39607008", "SCT", "Lung")),
            derivationDescription: "super-pixel occlusion", to: dir), "exam1.seg.dcm")
        try keep(try writer.writeSR(Self.input(d2, installation: installation, global: 11), to: dir), "exam2.sr.dcm")
        try FileManager.default.copyItem(at: first, to: out.appendingPathComponent("exam1.source.dcm"))
        try FileManager.default.copyItem(at: second, to: out.appendingPathComponent("exam2.source.dcm"))

        for (name, url) in written where !name.hasPrefix("source") {
            let r = try Self.run("/usr/bin/dciodvfy", [url.path])
            let errors = r.output.split(separator: "\n").filter { $0.hasPrefix("Error") }
            #expect(errors.isEmpty, "\(name): \(errors)")
            // Documented warnings only (docs/conformance.md, "Validation").
            let warnings = r.output.split(separator: "\n").filter { $0.hasPrefix("Warning") }
            let documented = ["Unrecognized defined term <99BRIXIA> for value 1 of attribute <Coding Scheme Designator>",
                              "should be absent (not empty) if an unpaired body part, and have a value if a paired body part - attribute <Laterality>"]
            let undocumented = warnings.filter { w in !documented.contains { w.contains($0) } }
            #expect(undocumented.isEmpty, "\(name): undocumented dciodvfy warnings \(undocumented)")
            print("dciodvfy \(name): \(errors.count) errors, \(warnings.count) documented warnings")
        }

        // For working on the consumer script: BRIXIA_CONSUMER_OUTPUTS=DIR keeps a copy of the outputs.
        if let keep = ProcessInfo.processInfo.environment["BRIXIA_CONSUMER_OUTPUTS"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: out, to: URL(fileURLWithPath: keep))
        }
        let venv = try Self.run("/bin/bash", [Self.repoRoot.appendingPathComponent("scripts/consumer-venv.sh").path])
        let python = venv.output.split(separator: "\n").last.map(String.init) ?? ""
        try #require(venv.status == 0 && FileManager.default.isExecutableFile(atPath: python), "consumer venv: \(venv.output)")
        let check = try Self.run(python, [Self.repoRoot.appendingPathComponent("Tests/Consumers/check_outputs.py").path, out.path,
                                          Self.repoRoot.path])
        print(check.output)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("highdicom SR: ok") && check.output.contains("highdicom SEG: ok"), "\(check.output)")
        #expect(check.output.contains("orthanc: ok") || check.output.contains("orthanc: SKIPPED"), "\(check.output)")
    }
}
