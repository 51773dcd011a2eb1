import BrixiaDomain
import DicomNetwork
import Foundation
import Logging
import Reports
import class Store.BrixiaStore
import struct Store.OutputRecord
import Testing
@testable import Pipeline

/// Counts the engine's durable steps and abandons the study (as a crash would) at the `nth` time
/// `step` is reached.
final class StepCrasher: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [ProcessingStep: Int] = [:]
    let step: ProcessingStep, nth: Int
    init(step: ProcessingStep, nth: Int) { self.step = step; self.nth = nth }
    func shouldCrash(_ s: ProcessingStep) -> Bool {
        lock.lock(); defer { lock.unlock() }
        seen[s, default: 0] += 1
        return s == step && seen[s] == nth
    }
}

/// A three-exam patient delivered in reverse date order (day 35, then day 7, then day 0), one delivery
/// per run: each later report is re-issued exactly once as an amended report naming the replaced one,
/// with the right prior and change, and `trend` agrees with the reports.
@Suite struct AmendedReportFlowTests {
    /// (study, StudyDate, grades), in delivery order.
    static let deliveries: [(String, String, [Int])] = [("D35", "20200405", [2, 2, 2, 1, 1, 1]),   // 9
                                                        ("D7", "20200308", [1, 1, 1, 1, 1, 1]),    // 6
                                                        ("D0", "20200301", [0, 0, 0, 0, 0, 1])]    // 1

    /// Drops delivery `i`; file names sort in delivery order (the reverse of the dates).
    static func deliver(_ ws: Workspace, _ i: Int, uid: (String) -> String = { $0 }) throws {
        let (study, date, grades) = deliveries[i]
        try ws.drop(FakeInstance.make(study: uid(study), sop: uid(study) + ".1", patient: "P1", date: date, grades: grades),
                    as: "\(i)-\(study).dcm")
    }

    static func sql(_ ws: Workspace) throws -> BrixiaStore { ws.store.store }

    static func latestReport(_ ws: Workspace, _ study: String) throws -> StudyAnalysis {
        let v = try #require(try sql(ws).analyses(studyInstanceUID: study).last?.version)
        let data = try Data(contentsOf: ws.config.outbox.appendingPathComponent("brixia_\(study)_v\(v).sr.json"))
        let dec = JSONDecoder(); dec.dateDecodingStrategy = .iso8601
        return try dec.decode(StudyAnalysis.self, from: data)
    }

    /// The end state after the three deliveries, whatever crashed on the way.
    static func expectFinalState(_ ws: Workspace) throws {
        let s = try sql(ws)
        #expect(try s.analyses(studyInstanceUID: "D0").map(\.version) == [1])
        #expect(try s.analyses(studyInstanceUID: "D7").map(\.version) == [1, 2])
        #expect(try s.analyses(studyInstanceUID: "D35").map(\.version) == [1, 2])
        var expected: [String] = []
        for (study, versions) in [("D0", [1]), ("D7", [1, 2]), ("D35", [1, 2])] {
            for v in versions { expected += ["brixia_\(study)_v\(v).sc.json", "brixia_\(study)_v\(v).sr.json"] }
        }
        #expect(ws.outputs() == expected.sorted())
        #expect(ws.inboxFiles().isEmpty)
        #expect(ws.files(ws.config.outbox.appendingPathComponent(PipelineEngine.stagingFolderName)).isEmpty)
        for study in ["D0", "D7", "D35"] { #expect(try s.job(studyInstanceUID: study)?.state == .done) }

        // The reports as they stand, against `trend`.
        let trend = try s.trend(patientID: "P1")
        #expect(trend.exams.map(\.studyInstanceUID) == ["D0", "D7", "D35"])
        #expect(trend.exams.map(\.delta) == [nil, 5, 3])
        for exam in trend.exams {
            let r = try latestReport(ws, exam.studyInstanceUID)
            #expect(r.globalDelta == exam.delta, "\(exam.studyInstanceUID)")
            #expect(r.trend == exam.trend, "\(exam.studyInstanceUID)")
            #expect(r.score.global == exam.global)
        }
        let d35 = try latestReport(ws, "D35"), d7 = try latestReport(ws, "D7"), d0 = try latestReport(ws, "D0")
        #expect(d0.prior == nil && d0.replaces == nil)
        #expect(d7.prior?.studyInstanceUID == "D0" && d35.prior?.studyInstanceUID == "D7")
        // Each amendment names the report it replaces and says why.
        #expect(d35.replaces?.version == 1)
        #expect(d35.replaces?.outputs.map(\.fileName).sorted() == ["brixia_D35_v1.sc.json", "brixia_D35_v1.sr.json"])
        #expect(d35.replaces?.reason.contains("prior is now the exam of 2020-03-08") == true)
        #expect(d7.replaces?.version == 1)
        #expect(d7.replaces?.reason.contains("prior is now the exam of 2020-03-01") == true)
        // The day-35 amendment already compares with day 7, so day 0's arrival does not re-issue it again
        // (its chart, drawn before day 0 arrived, shows days 7 and 35).
        #expect(d35.history.map(\.studyDate) == ["20200308", "20200405"])
        #expect(d7.history.map(\.studyDate) == ["20200301", "20200308", "20200405"])
    }

    @Test func reverseDateOrderDeliveryReissuesEachLaterReportOnce() async throws {
        let ws = try Workspace()
        for i in 0..<3 {
            try Self.deliver(ws, i)
            let s = try await ws.runner().runOnce()
            #expect(s.isClean, "\(s.failures)")
            // Run 1 reports day 35; run 2 day 7 and the amended day 35; run 3 day 0 and the amended day 7.
            #expect((s.studiesProcessed, s.reportsAmended) == (i == 0 ? (1, 0) : (2, 1)))
            #expect(s.text.contains("reports amended:     \(i == 0 ? 0 : 1)"))
        }
        try Self.expectFinalState(ws)
        // The first report of day 35 said "no prior"; only its amendment names day 7.
        let dec = JSONDecoder(); dec.dateDecodingStrategy = .iso8601
        let v1 = try dec.decode(StudyAnalysis.self, from: Data(contentsOf: ws.config.outbox.appendingPathComponent("brixia_D35_v1.sr.json")))
        #expect(v1.prior == nil && v1.replaces == nil)
    }

    /// A crash at every durable step of the second delivery (its own study, then the amendment it
    /// triggers), then a restart: still exactly one amended report per later exam.
    @Test(arguments: ProcessingStep.allCases, [0, 1])
    func crashAtEveryStepOfAnAmendment(step: ProcessingStep, job: Int) async throws {
        let ws = try Workspace()
        try Self.deliver(ws, 0)
        #expect(try await ws.runner().runOnce().isClean)

        try Self.deliver(ws, 1)
        // Job 0 (day 7) passes each step once (publishedOne twice); job 1 is the day-35 amendment.
        let nth = job == 0 ? 1 : (step == .publishedOne ? 3 : 2)
        let crasher = StepCrasher(step: step, nth: nth)
        let crashing = ws.runner()
        crashing.engine.interruptCheck = { crasher.shouldCrash($0) }
        await #expect(throws: ProcessingInterrupted.self) { _ = try await crashing.runOnce() }
        let restarted = try await ws.runner().runOnce()
        #expect(restarted.isClean, "\(restarted.failures)")

        try Self.deliver(ws, 2)
        #expect(try await ws.runner().runOnce().isClean)
        try Self.expectFinalState(ws)
    }

    /// In one batch (`run --once` over all three files, delivered in any name order) the exams are
    /// processed in date order: every report names the right prior the first time, nothing is amended.
    @Test func oneBatchIsProcessedInDateOrder() async throws {
        let ws = try Workspace()
        // File names sort as the reverse of the dates ("0-D35.dcm", "1-D7.dcm", "2-D0.dcm").
        for i in 0..<3 { try Self.deliver(ws, i) }
        #expect(try await ws.runner().runOnce().isClean)
        let s = try Self.sql(ws)
        for study in ["D0", "D7", "D35"] { #expect(try s.analyses(studyInstanceUID: study).map(\.version) == [1]) }
        #expect(try Self.latestReport(ws, "D35").prior?.studyInstanceUID == "D7")
        #expect(try Self.latestReport(ws, "D7").prior?.studyInstanceUID == "D0")
        #expect(ws.scorer.scored == ["D0.1", "D7.1", "D35.1"])
    }
}

/// The pipeline and the store use one ordering rule: an exam without StudyDate is dated by its
/// acquisition, in its report (prior, change, label, chart) exactly as in `trend`.
@Suite struct OneOrderingRuleTests {
    @Test func examDatedByAcquisitionOnlyGetsItsPriorAndChangeAsInTrend() async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "A1", sop: "A1.1", date: "20200301", grades: [1, 1, 1, 1, 1, 1]), as: "a.dcm")
        try ws.drop(FakeInstance.make(study: "A2", sop: "A2.1", date: "", grades: [2, 2, 2, 2, 2, 2],
                                      acquisition: "20200305101500"), as: "b.dcm")
        #expect(try await ws.runner().runOnce().isClean)
        let r = try AmendedReportFlowTests.latestReport(ws, "A2")
        #expect(r.prior?.studyInstanceUID == "A1" && r.prior?.studyDate == "20200301")
        #expect(r.globalDelta == 6 && r.trend == .worse)
        #expect(r.history.map(\.studyDate) == ["20200301", "20200305"])
        let t = try AmendedReportFlowTests.sql(ws).trend(patientID: "P1")
        #expect(t.exams.map(\.studyInstanceUID) == ["A1", "A2"])
        #expect(t.exams[1].delta == r.globalDelta && t.exams[1].trend == r.trend)
        // One batch, date order: A1 (1 Mar) before A2 (5 Mar, by acquisition).
        #expect(ws.scorer.scored == ["A1.1", "A2.1"])
    }

    @Test func undatedExamHasNoPriorInReportOrTrend() async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "U1", sop: "U1.1", date: "20200301"), as: "a.dcm")
        try ws.drop(FakeInstance.make(study: "U2", sop: "U2.1", date: ""), as: "b.dcm")
        #expect(try await ws.runner().runOnce().isClean)
        let r = try AmendedReportFlowTests.latestReport(ws, "U2")
        #expect(r.prior == nil && r.globalDelta == nil && r.trend == .undated)
        #expect(try AmendedReportFlowTests.sql(ws).trend(patientID: "P1").exams.last?.trend == .undated)
    }
}

/// Writes real DICOM SR + SC with the prior, change and amendment the pipeline passes (as ReportsSink
/// does, without a DICOM source image), so that the outgoing queue and dciodvfy can read them.
struct AmendingDicomSink: ReportSink {
    func writeOutputs(for a: StudyAnalysis, sourceFile: URL, kinds: Set<OutputKind>, baseName: String,
                      into directory: URL) throws -> [PublishedOutput] {
        let image = SourceImage(sopClassUID: a.source.sopClassUID, sopInstanceUID: a.source.sopInstanceUID,
                                seriesInstanceUID: a.source.seriesInstanceUID, modality: a.source.modality)
        let prior = a.prior.map {
            PriorExam(studyInstanceUID: $0.studyInstanceUID, studyDate: $0.studyDate ?? "", global: $0.global,
                      image: SourceImage(sopClassUID: $0.sopClassUID ?? image.sopClassUID, sopInstanceUID: $0.sopInstanceUID,
                                         seriesInstanceUID: $0.seriesInstanceUID ?? "", modality: $0.modality ?? "DX"))
        }
        let change = a.globalDelta.map { d in ScoreChange(delta: d, trend: d >= 2 ? .worse : (d <= -2 ? .better : .stable)) }
        var input = ReportInput(
            patient: PatientInfo(id: a.patientID, name: "Test^Amendment"),
            study: StudyInfo(studyInstanceUID: a.studyInstanceUID, date: a.studyDate), source: image,
            scores: BrixiaScores(zones: zip(Zone.allCases, a.score.zoneGrades).map { ZoneScore(zone: $0, grade: $1) },
                                 global: a.score.global),
            prior: prior, change: change,
            model: a.model,
            equipment: EquipmentInfo(softwareVersion: "test"), created: a.createdAt)
        input.amendment = ReportsSink.amendment(a)
        var out: [PublishedOutput] = []
        for kind in [OutputKind.sr, .sc] where kinds.contains(kind) {
            let w = kind == .sr ? try ReportWriter().writeSR(input, to: directory)
                                : try ReportWriter().writeSecondaryCapture(input, trend: [], to: directory)
            let named = directory.appendingPathComponent("\(baseName).\(kind.rawValue).dcm")
            try FileOps.move(w.path, to: named)
            out.append(PublishedOutput(kind: kind, fileName: named.lastPathComponent, sopInstanceUID: w.sopInstanceUID, seriesInstanceUID: w.seriesInstanceUID))
        }
        return out
    }
}

/// The amendments reach the PACS: queued for every destination next to the original reports; the
/// amended SR joins the replaced SR's series and names it in the Predecessor Documents Sequence.
@Suite struct AmendedReportsToPACSTests {
    static let root = "1.2.826.0.1.3680043.9.7777.72."
    /// Study names as valid UIDs ("D35" -> root + "135").
    static func uid(_ name: String) -> String { root + "1" + name.dropFirst() }

    static func which(_ tool: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ tool: String, _ args: [String]) throws -> String {
        let p = Process(); p.executableURL = URL(fileURLWithPath: which(tool) ?? tool); p.arguments = args
        let out = Pipe(); p.standardOutput = out; p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func amendmentsAreQueuedForThePACSAndNameTheirPredecessor() async throws {
        let ws = try Workspace()
        ws.config.network.destinations = [try DicomNode(parsing: "PACS@127.0.0.1:1"), try DicomNode(parsing: "ARCHIVE@127.0.0.1:2")]
        let queue = OutgoingQueue(store: ws.store.store)
        let deps = { PipelineDependencies(inspector: FakeInspector(), scorer: ws.scorer, reports: AmendingDicomSink(),
                                          store: ws.store, now: { Date() }, outgoing: queue) }
        var log = Logger(label: "test"); log.logLevel = .critical
        for i in 0..<3 {
            try AmendedReportFlowTests.deliver(ws, i, uid: Self.uid)
            let s = try await PipelineRunner(engine: PipelineEngine(config: ws.config, dependencies: deps(), logger: log), logger: log).runOnce()
            #expect(s.isClean, "\(s.failures)")
        }
        let store = try AmendedReportFlowTests.sql(ws)
        var published: [(study: String, version: Int, output: OutputRecord)] = []
        for study in ["D0", "D7", "D35"].map(Self.uid) {
            for a in try store.analyses(studyInstanceUID: study) {
                for o in try store.outputs(analysisID: a.id) { published.append((study, a.version, o)) }
            }
        }
        #expect(published.count == 10)   // D0 v1, D7 v1+v2, D35 v1+v2; SR + SC each
        let rows = try queue.store.outgoingItems()
        for d in ws.config.network.destinations {
            #expect(Set(rows.filter { $0.destination == d.description }.map(\.sopInstanceUID)) == Set(published.map(\.output.sopInstanceUID)))
        }
        #expect(rows.count == 20)

        for study in ["D7", "D35"].map(Self.uid) {
            let v1sr = try #require(published.first { $0.study == study && $0.version == 1 && $0.output.kind == "SR" }?.output)
            let v2sr = try #require(published.first { $0.study == study && $0.version == 2 && $0.output.kind == "SR" }?.output)
            let v1sc = try #require(published.first { $0.study == study && $0.version == 1 && $0.output.kind == "SC" }?.output)
            let v2sc = try #require(published.first { $0.study == study && $0.version == 2 && $0.output.kind == "SC" }?.output)
            #expect(v2sr.seriesInstanceUID == v1sr.seriesInstanceUID && v2sr.sopInstanceUID != v1sr.sopInstanceUID)
            #expect(v2sc.seriesInstanceUID == v1sc.seriesInstanceUID && v2sc.sopInstanceUID != v1sc.sopInstanceUID)
            guard Self.which("dcmdump") != nil, Self.which("dciodvfy") != nil else { continue }
            let dump = try Self.run("dcmdump", ["-Un", "+p", "+P", "0008,1155", "+P", "0040,a160", "+L", v2sr.filePath])
            #expect(dump.contains("(0040,a360).(0008,1115).(0008,1199).(0008,1155) UI [\(v1sr.sopInstanceUID)]"), "\(dump)")
            #expect(dump.contains("replaces version 1: the patient's exam history changed"), "\(dump)")
            let errors = try Self.run("dciodvfy", [v2sr.filePath]).split(separator: "\n").filter { $0.contains("Error") }
            #expect(errors.isEmpty, "\(errors)")
        }
    }
}
