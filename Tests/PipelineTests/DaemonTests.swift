import Foundation
import Logging
import ServiceLifecycle
import Testing
@testable import Pipeline

struct DaemonStop {
    let group: ServiceGroup
    func stop() async { await group.triggerGracefulShutdown() }
}

@Suite struct DaemonTests {
    /// Waits for `cond` (polling), failing after `seconds` instead of hanging.
    func eventually(_ seconds: Double, _ cond: () throws -> Bool) async throws -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if try cond() { return true }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return try cond()
    }

    /// The daemon loop with the engine's clock held by the test: nothing in these tests depends on how fast the
    /// machine is. Waits (`eventually`) are only upper bounds for something the daemon must do by itself.
    /// It runs as `serve` runs it, in a ServiceGroup; `stop` is the graceful shutdown SIGTERM would trigger.
    func startDaemon(_ ws: Workspace) -> (Task<Void, Error>, DaemonStop) {
        var log = Logger(label: "test"); log.logLevel = .critical
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: PipelineService(runner: ws.runner(), tick: 0.05), successTerminationBehavior: .gracefullyShutdownGroup)],
            logger: log))
        return (Task.detached { try await group.run() }, DaemonStop(group: group))
    }

    @Test(.timeLimit(.minutes(1)))
    func studyIsProcessedOnceAfterQuietPeriodWithLateInstanceAsNewVersion() async throws {
        let ws = try Workspace()
        ws.config.quietPeriod = 3.0
        ws.config.rescanInterval = 5     // inotify must do the work
        let (daemon, stop) = startDaemon(ws)

        try ws.drop(FakeInstance.make(study: "Q.1", sop: "Q.1.1", acquisition: "1"), as: "study/a.dcm")
        #expect(try await eventually(10) { try ws.store.instances(studyInstanceUID: "Q.1").count == 1 })
        // Second instance, in a folder created now; the clock has not moved, so the study is still quiet-waiting
        // however long the machine took to get here.
        try ws.drop(FakeInstance.make(study: "Q.1", sop: "Q.1.2", acquisition: "2"), as: "study/series2/b.dcm")
        #expect(try await eventually(10) { try ws.store.instances(studyInstanceUID: "Q.1").count == 2 })
        #expect(try ws.store.job(studyInstanceUID: "Q.1")?.state == .received)
        ws.manualClock.advance(by: 2.9)
        #expect(try ws.store.job(studyInstanceUID: "Q.1")?.state == .received)   // not yet quiet for 3 s
        ws.manualClock.advance(by: 0.2)
        #expect(try await eventually(10) { try ws.store.job(studyInstanceUID: "Q.1")?.state == .done })
        let a = try ws.analyses("Q.1")
        #expect(a.count == 1)
        #expect(a.first?.instanceUIDs == ["Q.1.1", "Q.1.2"])
        #expect(try await eventually(5) { ws.inboxFiles().isEmpty })

        // A late instance: re-analysis recorded as version 2 once it has been quiet.
        try ws.drop(FakeInstance.make(study: "Q.1", sop: "Q.1.3", acquisition: "3"), as: "late.dcm")
        #expect(try await eventually(10) { try ws.store.instances(studyInstanceUID: "Q.1").count == 3 })
        ws.manualClock.advance(by: 3.1)
        #expect(try await eventually(10) { try ws.analyses("Q.1").count == 2 })
        #expect(try await eventually(5) { ws.outputs().contains("brixia_Q.1_v2.sr.json") })
        await stop.stop()
        try await daemon.value
        #expect(ws.outputs().count == 4)
        #expect(ws.inboxFiles().isEmpty)
    }

    /// The daemon: three exams of a patient arriving together are reported in date order (each names its true
    /// prior the first time); an even earlier exam arriving later re-issues only the exam after it, once.
    @Test(.timeLimit(.minutes(1)))
    func daemonReportsSameSecondArrivalsInDateOrderAndAmendsOnALateEarlierExam() async throws {
        let ws = try Workspace()
        ws.config.quietPeriod = 0.5
        ws.config.rescanInterval = 0.3
        let store = ws.store.store
        let (daemon, stop) = startDaemon(ws)
        for (i, (study, date)) in [("D35", "20200405"), ("D7", "20200308"), ("D0", "20200301")].enumerated() {
            try ws.drop(FakeInstance.make(study: study, sop: study + ".1", date: date), as: "\(i)-\(study).dcm")
        }
        #expect(try await eventually(15) { try ["D0", "D7", "D35"].allSatisfy { try store.job(studyInstanceUID: $0) != nil } })
        ws.manualClock.advance(by: 1)
        #expect(try await eventually(15) {
            try ["D0", "D7", "D35"].allSatisfy { try store.job(studyInstanceUID: $0)?.state == .done }
        })
        for study in ["D0", "D7", "D35"] { #expect(try store.analyses(studyInstanceUID: study).map(\.version) == [1]) }
        #expect(try store.priorAnalysis(studyInstanceUID: "D35")?.study.studyInstanceUID == "D7")
        #expect(ws.scorer.scored == ["D0.1", "D7.1", "D35.1"])

        try ws.drop(FakeInstance.make(study: "DM7", sop: "DM7.1", date: "20200223"), as: "late.dcm")
        #expect(try await eventually(15) { try store.job(studyInstanceUID: "DM7") != nil })
        ws.manualClock.advance(by: 1)
        #expect(try await eventually(15) { try store.analyses(studyInstanceUID: "D0").count == 2 })
        #expect(try await eventually(5) { ws.outputs().contains("brixia_D0_v2.sr.json") })
        await stop.stop()
        try await daemon.value
        #expect(try store.analyses(studyInstanceUID: "D7").count == 1 && store.analyses(studyInstanceUID: "D35").count == 1)
        #expect(ws.outputs().count == 2 * 5)
    }

    @Test(.timeLimit(.minutes(1)))
    func failedJobIsRetriedByTheDaemonAfterItsDelay() async throws {
        let ws = try Workspace()
        ws.config.quietPeriod = 0
        ws.config.retryDelay = 30   // before the store is opened: it takes the delay from the configuration
        ws.config.rescanInterval = 0.3
        try Data("blocked".utf8).write(to: ws.config.outbox)
        let (daemon, stop) = startDaemon(ws)
        try ws.drop(FakeInstance.make(study: "F.1", sop: "F.1.1"), as: "f.dcm")
        #expect(try await eventually(10) { try ws.store.job(studyInstanceUID: "F.1") != nil })
        ws.manualClock.advance(by: 1)   // past the (zero) quiet period
        // A transient failure: back in the queue, waiting out its back-off, the error kept.
        #expect(try await eventually(10) { try ws.store.job(studyInstanceUID: "F.1")?.lastError?.contains("Not a directory") == true })
        #expect(ws.inboxFiles() == ["f.dcm"])
        #expect(try ws.store.job(studyInstanceUID: "F.1")?.attempts == 1)
        try FileManager.default.removeItem(at: ws.config.outbox)
        ws.manualClock.advance(by: 30)
        #expect(try await eventually(10) { try ws.store.job(studyInstanceUID: "F.1")?.state == .done })
        #expect(try ws.store.job(studyInstanceUID: "F.1")?.attempts == 2)
        await stop.stop()
        try await daemon.value
        #expect(ws.outputs().count == 2)
    }
}
