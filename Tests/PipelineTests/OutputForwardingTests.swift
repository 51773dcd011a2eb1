import BrixiaDomain
import DicomNetwork
import Foundation
import GRDB
import class Store.BrixiaStore
import Logging
import Reports
import Testing
@testable import Pipeline

/// Writes real DICOM SR + SC (Reports) for the analysis, so the outgoing queue can read their UIDs.
struct DicomReportSink: ReportSink {
    func writeOutputs(for a: StudyAnalysis, sourceFile: URL, kinds: Set<OutputKind>, baseName: String,
                      into directory: URL) throws -> [PublishedOutput] {
        let input = ReportInput(
            patient: PatientInfo(id: a.patientID, name: "Test^Forwarding"),
            study: StudyInfo(studyInstanceUID: a.studyInstanceUID, date: a.studyDate),
            source: SourceImage(sopClassUID: a.source.sopClassUID, sopInstanceUID: a.source.sopInstanceUID,
                                seriesInstanceUID: a.source.seriesInstanceUID, modality: a.source.modality),
            scores: BrixiaScores(zones: zip(Zone.allCases, a.score.zoneGrades).map { ZoneScore(zone: $0, grade: $1) },
                                 global: a.score.global),
            model: a.model,
            equipment: EquipmentInfo(softwareVersion: "test"), created: a.createdAt)
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

/// Queueing a finished study's SR and SC for the configured destinations survives a crash after every
/// durable step: after the restart each report is queued exactly once per destination, nothing is missing.
@Suite struct OutputForwardingTests {
    /// Real DICOM objects need real UIDs.
    static let root = "1.2.826.0.1.3680043.9.7777.70"
    static let destinations = [try! DicomNode(parsing: "PACS@127.0.0.1:1"), try! DicomNode(parsing: "ARCHIVE@127.0.0.1:2")]

    /// The queue over a Store in the workspace's database (the jobs stay in the in-memory double).
    static func queue(_ ws: Workspace) throws -> OutgoingQueue {
        OutgoingQueue(store: try BrixiaStore(path: ws.config.database.path))
    }

    func runner(_ ws: Workspace, crashAt step: ProcessingStep? = nil, queue: OutgoingQueue? = nil) -> PipelineRunner {
        let deps = PipelineDependencies(inspector: FakeInspector(), scorer: ws.scorer, reports: DicomReportSink(),
                                        store: ws.store, now: { Date() }, outgoing: queue)
        var log = Logger(label: "test"); log.logLevel = .critical
        let engine = PipelineEngine(config: ws.config, dependencies: deps, logger: log)
        if let step { engine.interruptCheck = { $0 == step } }
        return PipelineRunner(engine: engine, logger: log)
    }

    @Test(arguments: ProcessingStep.allCases)
    func crashAtEveryStepQueuesEachReportExactlyOncePerDestination(step: ProcessingStep) async throws {
        let ws = try Workspace()
        ws.config.network.destinations = Self.destinations
        try ws.drop(FakeInstance.make(study: "\(Self.root).1", sop: "\(Self.root).1.1", grades: [2, 1, 0, 0, 1, 2]), as: "f/1.dcm")
        let queue = try Self.queue(ws)
        await #expect(throws: ProcessingInterrupted.self) { _ = try await runner(ws, crashAt: step, queue: queue).runOnce() }
        let s = try await runner(ws, queue: queue).runOnce()
        #expect(s.isClean, "\(s.failures)")
        #expect(s.recovered == ([.claimed, .scored].contains(step) ? [.requeued(study: "\(Self.root).1")] : [.finishedStaged(study: "\(Self.root).1")]), "\(step)")

        let published = try #require((try ws.publishedOutputs("\(Self.root).1")))
        #expect(Set(published.map(\.kind)) == [.sr, .sc])
        let rows = try queue.store.outgoingItems()
        #expect(rows.count == published.count * Self.destinations.count, "\(rows.map { "\($0.destination) \($0.path)" })")
        for d in Self.destinations {
            let mine = rows.filter { $0.destination == d.description }
            #expect(Set(mine.map(\.sopInstanceUID)) == Set(published.map(\.sopInstanceUID)))
            #expect(Set(mine.map(\.path)) == Set(published.map { ws.config.outbox.appendingPathComponent($0.fileName).path }))
            #expect(mine.allSatisfy { $0.state == .pending && $0.attempts == 0 })
        }
        #expect(ws.files(ws.config.outbox.appendingPathComponent(PipelineEngine.stagingFolderName)).isEmpty)
    }

    @Test func withoutDestinationsNothingIsQueued() async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "\(Self.root).2", sop: "\(Self.root).2.1"), as: "f/2.dcm")
        let s = try await runner(ws).runOnce()
        #expect(s.isClean && ws.outputs().count == 2)
        #expect(try ws.store.store.outgoingItems().isEmpty)
    }

    /// The queue cannot be written (the database refuses the insert, as on a full disk): the study is committed
    /// and its outputs published, the staging is kept, and once the cause is gone the next pass queues the reports.
    @Test func aQueueFailureKeepsTheStagingUntilTheReportsAreQueued() async throws {
        let ws = try Workspace()
        ws.config.network.destinations = [Self.destinations[0]]
        let queue = try Self.queue(ws)
        let raw = try DatabaseQueue(path: ws.config.database.path)
        try await raw.write { try $0.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON outgoing_queue BEGIN SELECT RAISE(ABORT, 'disk full'); END") }
        try ws.drop(FakeInstance.make(study: "\(Self.root).3", sop: "\(Self.root).3.1"), as: "f/3.dcm")
        let s = try await runner(ws, queue: queue).runOnce()
        #expect(s.failures.contains { $0.hasPrefix("queueing reports for the PACS") }, "\(s.failures)")
        #expect(try ws.outputs().count == 2 && ws.publishedOutputs("\(Self.root).3")?.count == 2)
        #expect(!ws.files(ws.config.outbox.appendingPathComponent(PipelineEngine.stagingFolderName)).isEmpty)

        #expect(try queue.store.outgoingItems().isEmpty)
        try await raw.write { try $0.execute(sql: "DROP TRIGGER refuse") }
        let again = try await runner(ws, queue: queue).runOnce()
        #expect(again.isClean, "\(again.failures)")
        #expect(try queue.store.outgoingItems().count == 2)
        #expect(ws.files(ws.config.outbox.appendingPathComponent(PipelineEngine.stagingFolderName)).isEmpty)
        #expect(try ws.store.store.analyses(studyInstanceUID: "\(Self.root).3").count == 1)
    }
}
