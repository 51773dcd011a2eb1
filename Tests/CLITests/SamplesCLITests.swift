import Foundation
import Store
import Testing

/// The shipped Samples/ (synthetic CXR DICOM: JPEG-LS, RLE, MONOCHROME1, latin1/UTF-8 names) through
/// `brixia run --once` with no config file, delivered out of date order.
@Suite(.serialized) struct SamplesCLITests {
    static let samples = Brixia.repoRoot.appendingPathComponent("Samples")

    @Test(.enabled(if: FileManager.default.fileExists(atPath: SamplesCLITests.samples.appendingPathComponent("studies").path),
                   "needs Samples/studies"),
          .timeLimit(.minutes(20)))
    func samplesOutOfDateOrderGiveDateOrderedPriorsAndTrends() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let fm = FileManager.default
        let studies = Self.samples.appendingPathComponent("studies")
        var newest: [String] = [], rest: [String] = []
        for patient in try fm.contentsOfDirectory(atPath: studies.path).sorted() {
            let files = try fm.contentsOfDirectory(atPath: studies.appendingPathComponent(patient).path).sorted()
            newest.append("\(patient)/\(files.last!)")
            rest += files.dropLast().map { "\(patient)/\($0)" }
        }
        // A newest exam reported before its patient's earlier exams arrived is re-issued once (amended report).
        let amended = Set(rest.map { $0.split(separator: "/")[0] }).count
        func deliver(_ rel: [String]) throws {
            for r in rel {
                let dst = w.url("inbox/\(r)")
                try fm.createDirectory(at: dst.deletingLastPathComponent(), withIntermediateDirectories: true)
                try fm.copyItem(at: studies.appendingPathComponent(r), to: dst)
            }
        }
        let args = ["run", "--once", "--work-dir", w.root.path, "--model", model.path]
        // First the newest exam of each patient, then the earlier ones and the rejects.
        try deliver(newest)
        let r1 = try await Brixia.run(args, env: E2E.env, timeout: 600)
        #expect(r1.status == 0, "\(r1.stdout)\n\(r1.stderr)")
        #expect(r1.stdout.contains("studies processed:   \(newest.count)"))
        try deliver(rest)
        for reject in ["lateral_LL.dcm", "not_dicom.dcm"] {
            try fm.copyItem(at: Self.samples.appendingPathComponent("rejects/\(reject)"), to: w.url("inbox/\(reject)"))
        }
        let r2 = try await Brixia.run(args, env: E2E.env, timeout: 900)
        #expect(r2.status == 0, "\(r2.stdout)\n\(r2.stderr)")
        #expect(r2.stdout.contains("studies processed:   \(rest.count + amended)"), "\(r2.stdout)")
        #expect(r2.stdout.contains("files quarantined:   2"))
        #expect(w.files("inbox").isEmpty)
        #expect(w.files("outbox").count == 2 * (newest.count + rest.count + amended))
        #expect(w.files("archive").count == newest.count + rest.count)
        for name in ["Müller", "Lucía", "Jürgen"] {
            #expect(!r1.stderr.contains(name) && !r2.stderr.contains(name), "patient name in the log")
        }
        let lateral = try String(contentsOf: w.url("quarantine/lateral_LL.dcm.reason.txt"), encoding: .utf8)
        #expect(lateral.contains("lateral"))
        let notDicom = try String(contentsOf: w.url("quarantine/not_dicom.dcm.reason.txt"), encoding: .utf8)
        #expect(notDicom.contains("unreadable"))

        // Trends and priors in study-date order, whatever the arrival order.
        let store = try BrixiaStore.openExisting(path: w.url("brixia.sqlite").path)
        for patient in ["BRX-0001", "BRX-0002", "BRX-0003"] {
            let t = try store.trend(patientID: patient)
            let dates = t.exams.compactMap(\.date)
            #expect(dates == dates.sorted() && dates.count == t.exams.count, "\(patient): \(dates)")
            #expect(t.exams.first?.trend == .baseline)
            #expect(t.exams.dropFirst().allSatisfy { $0.delta != nil })
            for (prev, exam) in zip(t.exams, t.exams.dropFirst()) {
                #expect(try store.priorAnalysis(studyInstanceUID: exam.studyInstanceUID)?.study.studyInstanceUID == prev.studyInstanceUID)
                #expect(exam.delta == exam.global - prev.global)
            }
            // Only the newest exam, reported first, was re-issued, and once.
            let versions = try t.exams.map { try store.analyses(studyInstanceUID: $0.studyInstanceUID).map(\.version) }
            #expect(versions == Array(repeating: [1], count: max(0, versions.count - 1)) + [versions.count > 1 ? [1, 2] : [1]],
                    "\(patient): \(versions)")
        }

        // Longitudinal tracking: every SR of a patient carries the same seven Tracking UIDs (zones A-F, global),
        // different from another patient's, and all SRs the one Device Observer UID of this installation.
        var trackingByPatient: [String: Set<[String]>] = [:]
        var observers = Set<String>()
        for name in w.files("outbox") where name.hasSuffix(".sr.dcm") {
            let dump = try ExplainPipelineCLITests.tool("/usr/bin/dsrdump", ["+Pl", w.url("outbox/\(name)").path])
            func values(_ concept: String) -> [String] {
                dump.split(separator: "\n").filter { $0.contains(concept) }.compactMap { line in
                    line.range(of: ")=\"").map { String(line[$0.upperBound...].prefix { $0 != "\"" }) }
                }
            }
            let patient = try #require(try ExplainPipelineCLITests.tool("/usr/bin/dcmdump", ["+P", "PatientID", w.url("outbox/\(name)").path])
                .split(separator: "[").dropFirst().first?.split(separator: "]").first.map(String.init))
            let uids = values("Tracking Unique Identifier")
            #expect(uids.count == 7 && Set(uids).count == 7, "\(name): \(uids)")
            trackingByPatient[patient, default: []].insert(uids)
            observers.formUnion(values("Device Observer UID"))
        }
        #expect(trackingByPatient.count == 3)
        for (patient, sets) in trackingByPatient { #expect(sets.count == 1, "\(patient) has \(sets.count) different tracking UID sets") }
        let allUIDs: [String] = trackingByPatient.values.flatMap { (sets: Set<[String]>) -> [String] in sets.flatMap { $0 } }
        #expect(Set(allUIDs).count == 21, "tracking UIDs shared between patients")
        #expect(observers.count == 1, "device observer UIDs: \(observers)")
    }
}
