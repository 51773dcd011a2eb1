import Foundation
import GRDB
import Store
import Testing
@testable import Pipeline

/// A worker double: "computes" on the first status query after `ticks` queries, writing a JSON "SC";
/// `fail` makes it exit 1 without a result. Records every pause/resume and every launch.
final class FakeExplanationLauncher: ExplanationLauncher, @unchecked Sendable {
    var ticks = 0
    var fail = false
    var failStatus: Int32 = 1
    private(set) var launches: [String] = []
    private(set) var workers: [FakeExplanationWorker] = []
    /// Asked at launch: the analysis must already be committed (scores first).
    var onLaunch: ((ExplanationJob) -> Void)?

    func launch(jobFolder: URL) throws -> any ExplanationWorker {
        let job = try ExplanationJobFolder(jobFolder).job()
        launches.append(jobFolder.lastPathComponent)
        onLaunch?(job)
        let w = FakeExplanationWorker(folder: ExplanationJobFolder(jobFolder), ticks: ticks, fail: fail ? failStatus : nil, n: launches.count)
        workers.append(w)
        return w
    }
}

final class FakeExplanationWorker: ExplanationWorker, @unchecked Sendable {
    let folder: ExplanationJobFolder
    var ticksLeft: Int
    let fail: Int32?
    let n: Int
    private(set) var events: [String] = []
    private var status: Int32?

    init(folder: ExplanationJobFolder, ticks: Int, fail: Int32?, n: Int) {
        self.folder = folder; ticksLeft = ticks; self.fail = fail; self.n = n
    }
    /// A made-up process id per launch (recorded with the job and handed to the next launch as stale).
    var processID: Int32? { 40_000 + Int32(n) }

    var exitStatus: Int32? {
        if status == nil && events.last != "pause" {
            if ticksLeft > 0 { ticksLeft -= 1; return nil }
            if let fail { status = fail } else {
                try! folder.commitResult { dir in
                    let job = try folder.job()
                    let name = "SC_\(n).json", segName = "SEG_\(n).json"
                    try JSONEncoder().encode(job.analysis.score).write(to: dir.appendingPathComponent(name))
                    try Data("seg".utf8).write(to: dir.appendingPathComponent(segName))
                    let uid = "2.25.9\(n)\(abs(job.analysis.studyInstanceUID.hashValue % 1000))"
                    return ExplanationResult(fileName: name, sopInstanceUID: uid, seriesInstanceUID: "2.25.8",
                                             segmentation: ExplanationFile(fileName: segName, sopInstanceUID: uid + "1", seriesInstanceUID: "2.25.7"))
                }
                status = 0
            }
        }
        return status
    }
    func pause() { events.append("pause") }
    func resume() { events.append("resume") }
    func terminate() { events.append("terminate"); status = 137 }
}

extension Workspace {
    /// Drops one fake instance into the inbox, takes it in and makes it claimable at once (no quiet period).
    func admit(_ study: String, sop: String, as name: String, into engine: PipelineEngine) throws {
        try drop(FakeInstance.make(study: study, sop: sop), as: name)
        try engine.intake(config.inbox.appendingPathComponent(name))
        try store.promote(quietBefore: .distantFuture, now: clock)
    }

    var explainRoot: URL { config.outbox.appendingPathComponent(PipelineEngine.explanationFolderName) }

    /// EXPLAIN-SC and EXPLAIN-SEG rows of the study's analysis `version` (real SQLite store).
    func explanationUIDs(_ study: String, version: Int = 1) throws -> [String] {
        let store = store.store
        let a = try #require(try store.analyses(studyInstanceUID: study).first { $0.version == version })
        return try store.outputs(analysisID: a.id).filter { $0.kind == explanationOutputKind || $0.kind == explanationSegmentationKind }
            .map(\.sopInstanceUID)
    }

    /// The explanation jobs of the store, every state.
    func explanationJobs() throws -> [ExplanationJobRecord] {
        try store.store.explanationJobs(states: ExplanationJobState.allCases)
    }

    /// The states one job went through, as "from>to".
    func explanationPath(_ job: ExplanationJobRecord) throws -> [String] {
        try store.store.explanationHistory(id: job.id).map { "\($0.fromState ?? "-")>\($0.toState ?? "-")" }
    }
}

@Suite struct ExplanationPipelineTests {
    static func workspace() throws -> Workspace {
        let ws = try Workspace()
        ws.config.explain = true
        return ws
    }

    @Test func offByDefaultWritesNoJob() async throws {
        let ws = try Workspace()
        #expect(ws.config.explain == false)
        let launcher = FakeExplanationLauncher()
        try ws.drop(FakeInstance.make(study: "E.0", sop: "E.0.1"), as: "e0.dcm")
        let s = try await ws.runner(explaining: launcher).runOnce()
        #expect(s.isClean)
        #expect(launcher.launches.isEmpty)
        #expect(!FileOps.exists(ws.explainRoot))
        #expect(ws.outputs() == ["brixia_E.0_v1.sc.json", "brixia_E.0_v1.sr.json"])
    }

    @Test func scoresAreCommittedFirstThenOneExplanationIsRecordedAndPublished() async throws {
        let ws = try Self.workspace()
        let launcher = FakeExplanationLauncher()
        let store = ws.store
        nonisolated(unsafe) var committedAtLaunch: [Bool] = []
        launcher.onLaunch = { job in
            committedAtLaunch.append((try? store.analysisVersions(studyInstanceUID: job.analysis.studyInstanceUID))?.contains(job.analysis.version) ?? false)
        }
        try ws.drop(FakeInstance.make(study: "E.1", sop: "E.1.1", grades: [2, 1, 0, 0, 1, 3]), as: "e1.dcm")
        let s = try await ws.runner(explaining: launcher).runOnce()
        #expect(s.isClean, "\(s.failures)")
        #expect(committedAtLaunch == [true])
        #expect(ws.outputs() == ["brixia_E.1_v1.explain-seg.dcm", "brixia_E.1_v1.explain.dcm", "brixia_E.1_v1.sc.json", "brixia_E.1_v1.sr.json"])
        #expect(try ws.explanationUIDs("E.1").count == 2)   // the SC and the SEG
        // The job carried the committed analysis and its source; nothing is left queued.
        #expect(ws.files(ws.explainRoot).isEmpty)
        let published = try JSONDecoder().decode(ImageScore.self, from: Data(contentsOf: ws.config.outbox.appendingPathComponent("brixia_E.1_v1.explain.dcm")))
        #expect(published.global == 7)
        let stored = try store.store.analyses(studyInstanceUID: "E.1")
        let outs = try store.store.outputs(analysisID: try #require(stored.first?.id))
        #expect(outs.map(\.kind).sorted() == ["EXPLAIN-SC", "EXPLAIN-SEG", "SC", "SR"])
        #expect(outs.first { $0.kind == "EXPLAIN-SEG" }?.filePath == ws.config.outbox.appendingPathComponent("brixia_E.1_v1.explain-seg.dcm").path)
        #expect(outs.first { $0.kind == "EXPLAIN-SC" }?.filePath == ws.config.outbox.appendingPathComponent("brixia_E.1_v1.explain.dcm").path)
    }

    /// A crash after every durable step of the study (explanation staged, queued, ...), then a restart:
    /// exactly one explanation per analysis, never lost.
    @Test(arguments: ProcessingStep.allCases)
    func crashDuringScoringNeverLosesOrDuplicatesTheExplanation(step: ProcessingStep) async throws {
        let ws = try Self.workspace()
        let launcher = FakeExplanationLauncher()
        try ws.drop(FakeInstance.make(study: "E.2", sop: "E.2.1"), as: "e2.dcm")
        let crashing = ws.runner(explaining: launcher)
        crashing.engine.interruptCheck = { $0 == step }
        await #expect(throws: ProcessingInterrupted.self) { _ = try await crashing.runOnce() }
        #expect(launcher.launches.isEmpty)   // nothing explained before the scores are committed

        let again = ws.reopened()
        let s = try await again.runner(explaining: launcher).runOnce()
        #expect(s.isClean, "\(s.failures)")
        #expect(launcher.launches.count == 1)
        #expect(again.outputs() == ["brixia_E.2_v1.explain-seg.dcm", "brixia_E.2_v1.explain.dcm", "brixia_E.2_v1.sc.json", "brixia_E.2_v1.sr.json"])
        #expect(try again.explanationUIDs("E.2").count == 2)   // SC + SEG
        #expect(again.files(again.explainRoot).isEmpty)
    }

    /// A crash after the SC was recorded, and after it was published: the restart finishes the job
    /// without computing a second SC (the worker is not launched again).
    @Test(arguments: ExplanationStep.allCases)
    func crashWhileFinishingPublishesTheSameSCOnce(step: ExplanationStep) async throws {
        let ws = try Self.workspace()
        let launcher = FakeExplanationLauncher()
        try ws.drop(FakeInstance.make(study: "E.3", sop: "E.3.1"), as: "e3.dcm")
        let crashing = ws.runner(explaining: launcher)
        crashing.engine.explanationInterruptCheck = { $0 == step }
        await #expect(throws: ExplanationInterrupted.self) { _ = try await crashing.runOnce() }
        let uids = try ws.explanationUIDs("E.3")
        #expect(uids.count == 2)   // the SC and the SEG, recorded before the crash

        let again = ws.reopened()
        let s = try await again.runner(explaining: launcher).runOnce()
        #expect(s.isClean, "\(s.failures)")
        #expect(launcher.launches.count == 1)
        #expect(try again.explanationUIDs("E.3") == uids)
        #expect(again.outputs().filter { $0.hasSuffix(".explain.dcm") } == ["brixia_E.3_v1.explain.dcm"])
        #expect(again.files(again.explainRoot).isEmpty)
    }

    /// A worker killed before it finished (or a pipeline killed while it ran) leaves no result: the job
    /// is launched again; after maxAttempts it is set aside as .failed and scoring is unaffected.
    @Test func failingWorkerIsRetriedThenSetAside() async throws {
        let ws = try Self.workspace()
        let launcher = FakeExplanationLauncher()
        launcher.fail = true
        try ws.drop(FakeInstance.make(study: "E.4", sop: "E.4.1"), as: "e4.dcm")
        let s = try await ws.runner(explaining: launcher).runOnce()
        #expect(launcher.launches.count == ws.config.maxAttempts)
        #expect(s.failures.contains { $0.contains("exited with status 1") })
        #expect(s.failures.contains { $0.contains("failed \(ws.config.maxAttempts) times") })
        #expect(ws.outputs() == ["brixia_E.4_v1.sc.json", "brixia_E.4_v1.sr.json"])
        #expect(try ws.explanationUIDs("E.4").isEmpty)
        // Failed for good, kind exhausted, its folder (with the worker's log) kept where it was.
        let job = try #require(try ws.explanationJobs().first)
        #expect(job.state == .failed && job.failureKind == .exhausted && job.attempts == ws.config.maxAttempts)
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.explainRoot.path) == [job.folder])
        #expect(try ws.explanationPath(job).suffix(2) == ["queued>running", "running>failed"])
        #expect(try ws.store.job(studyInstanceUID: "E.4")?.state == .done)
        // `brixia retry --explanations`: queued again with fresh attempts, and computed.
        let retried = try ws.store.store.retryFailedExplanations(actor: "test")
        #expect(retried.map(\.id) == [job.id])
        launcher.fail = false
        let again = try await ws.runner(explaining: launcher).runOnce()
        #expect(again.isClean, "\(again.failures)")
        #expect(try ws.explanationJobs().map(\.state) == [.done] && ws.files(ws.explainRoot).isEmpty)
    }

    /// A job the worker reports as hopeless (e.g. empty lung mask) is set aside after one launch.
    @Test func permanentFailureIsNotRetried() async throws {
        let ws = try Self.workspace()
        let launcher = FakeExplanationLauncher()
        launcher.fail = true
        launcher.failStatus = ExplanationJobFolder.permanentFailureStatus
        try ws.drop(FakeInstance.make(study: "E.8", sop: "E.8.1"), as: "e8.dcm")
        let s = try await ws.runner(explaining: launcher).runOnce()
        #expect(launcher.launches.count == 1)
        #expect(s.failures.contains { $0.contains("cannot be explained") })
        #expect(try ws.explanationJobs().map { "\($0.state) \($0.failureKind?.rawValue ?? "-") \($0.attempts)" } == ["failed permanent 1"])
        #expect(ws.outputs() == ["brixia_E.8_v1.sc.json", "brixia_E.8_v1.sr.json"])
    }

    /// The worker is paused as soon as a study is claimed and resumed only when no study is waiting.
    @Test func workerIsPausedWhileAStudyIsScored() throws {
        let ws = try Self.workspace()
        let launcher = FakeExplanationLauncher()
        launcher.ticks = 3
        let engine = ws.engine(explaining: launcher)
        try engine.prepareFolders()
        try ws.admit("E.5", sop: "E.5.1", as: "e5.dcm", into: engine)
        #expect(try engine.processNext() != nil)
        #expect(try engine.explanationTick())            // launched
        let worker = try #require(launcher.workers.first)
        #expect(try engine.explanationTick())            // still running: resumed
        // A new study arrives: claiming it pauses the worker before any scoring.
        try ws.admit("E.6", sop: "E.6.1", as: "e6.dcm", into: engine)
        #expect(ws.scorer.scored == ["E.5.1"])
        #expect(try engine.processNext() != nil)
        #expect(worker.events.last == "pause")
        #expect(ws.scorer.scored == ["E.5.1", "E.6.1"])
        while try engine.explanationTick() {}
        #expect(worker.events.filter { $0 == "resume" }.count >= 2)
        #expect(launcher.launches.count == 2)
        #expect(ws.outputs().filter { $0.hasSuffix(".explain.dcm") } == ["brixia_E.5_v1.explain.dcm", "brixia_E.6_v1.explain.dcm"])
    }

    /// A worker left behind by a killed pipeline (here: stopped with SIGSTOP, so it would never exit) still holds
    /// its job's lock: the kernel names it, and it is killed before the job is launched again. A process holding
    /// another job's lock, and a job nobody holds, are left alone.
    @Test(.timeLimit(.minutes(1)))
    func staleWorkerOfTheJobIsKilledOthersAreNot() throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-stale-\(UUID().uuidString)")
        let dir = root.appendingPathComponent("job"), other = root.appendingPathComponent("other")
        for d in [dir, other] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = ExplanationJobFolder(dir), otherFolder = ExplanationJobFolder(other)
        #expect(folder.killStaleWorker() == nil)   // no lock file yet

        // Stand-ins for workers: each holds a POSIX write lock on its job's lock file, as `lockForWorker` does.
        func holder(_ f: ExplanationJobFolder) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", "-c", "import fcntl, sys, time\nf = open(sys.argv[1], 'a')\nfcntl.lockf(f, fcntl.LOCK_EX)\nwhile True: time.sleep(0.1)",
                           f.url.appendingPathComponent(ExplanationJobFolder.lockName).path]
            try p.run()
            let end = Date().addingTimeInterval(20)
            while Date() < end, f.lockHolder() != p.processIdentifier { usleep(10_000) }
            return p
        }
        let stale = try holder(folder), bystander = try holder(otherFolder)
        defer { for p in [stale, bystander] where p.isRunning { kill(p.processIdentifier, SIGKILL); kill(p.processIdentifier, SIGCONT) } }
        #expect(folder.lockHolder() == stale.processIdentifier)
        kill(stale.processIdentifier, SIGSTOP)
        #expect(folder.lockHolder() == stale.processIdentifier)   // a stopped holder is still named
        #expect(folder.killStaleWorker() == stale.processIdentifier)
        stale.waitUntilExit()
        #expect(stale.terminationReason == .uncaughtSignal && stale.terminationStatus == SIGKILL)
        #expect(folder.lockHolder() == nil && folder.killStaleWorker() == nil)
        #expect(bystander.isRunning && otherFolder.lockHolder() == bystander.processIdentifier)

        // The worker's own lock: taken, reported to other processes, never to itself (so it never kills itself).
        try folder.lockForWorker()
        #expect(folder.lockHolder() == nil)
    }

    /// The pipeline is killed while its worker runs: the restarted pipeline finds the job running with no worker
    /// of its own, queues it again as a crash (the launch counted), hands the old worker's pid to the next launch
    /// to be stopped, and publishes once. A done job's folder left by a crash is removed at start-up.
    @Test func aPipelineStoppedWhileTheWorkerRanQueuesTheJobAgainAsACrash() throws {
        let ws = try Self.workspace()
        let first = FakeExplanationLauncher()
        first.ticks = 1000
        let engine = ws.engine(explaining: first)
        try engine.prepareFolders()
        try ws.admit("E.9", sop: "E.9.1", as: "e9.dcm", into: engine)
        _ = try engine.processNext()
        #expect(try engine.explanationTick())
        #expect(try ws.explanationJobs().map(\.state) == [.running])

        let second = FakeExplanationLauncher()
        let restarted = ws.engine(explaining: second)
        try restarted.recover(startup: true)
        while try restarted.explanationTick() {}
        let job = try #require(try ws.explanationJobs().first)
        #expect(job.state == .done && job.attempts == 2 && job.failureKind == .crash)
        #expect(try ws.explanationPath(job) == ["->queued", "queued>running", "running>queued", "queued>running", "running>done"])
        #expect(ws.outputs().filter { $0.contains(".explain") } == ["brixia_E.9_v1.explain-seg.dcm", "brixia_E.9_v1.explain.dcm"])

        try FileManager.default.createDirectory(at: ws.explainRoot.appendingPathComponent(job.folder), withIntermediateDirectories: true)
        try ws.engine(explaining: second).recover(startup: true)
        #expect(ws.files(ws.explainRoot).isEmpty && !FileOps.exists(ws.explainRoot.appendingPathComponent(job.folder)))
    }

    /// Folders left by a brixia from before the explanation_jobs table (state in an `attempts` file and a
    /// `.failed` suffix) are adopted at start-up: nothing queued is lost, nothing set aside is retried.
    @Test func jobFoldersOfAnOlderVersionAreAdopted() async throws {
        let ws = try Self.workspace()
        let idle = FakeExplanationLauncher()
        idle.ticks = 1000
        let engine = ws.engine(explaining: idle)
        try engine.prepareFolders()
        for n in [10, 11] {
            try ws.admit("E.\(n)", sop: "E.\(n).1", as: "e\(n).dcm", into: engine)
            _ = try engine.processNext()
        }
        let jobs = try ws.explanationJobs()
        #expect(jobs.count == 2)
        // What an older brixia left: the folders, no rows.
        try await DatabaseQueue(path: ws.config.database.path).write { db in
            try db.execute(sql: "DELETE FROM events WHERE kind = 'explanation'")
            try db.execute(sql: "DELETE FROM explanation_jobs")
        }
        let root = ws.explainRoot
        let legacyQueued = "01765000000000-aaaa-v1", legacyFailed = "01765000000001-bbbb-v1.failed"
        try FileManager.default.moveItem(at: root.appendingPathComponent(jobs[0].folder), to: root.appendingPathComponent(legacyQueued))
        try Data("2\n".utf8).write(to: root.appendingPathComponent(legacyQueued).appendingPathComponent("attempts"))
        try FileManager.default.moveItem(at: root.appendingPathComponent(jobs[1].folder), to: root.appendingPathComponent(legacyFailed))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("stray"), withIntermediateDirectories: true)

        let launcher = FakeExplanationLauncher()
        let restarted = ws.engine(explaining: launcher)
        try restarted.recover(startup: true)
        #expect(try ws.explanationJobs().map { "\($0.folder) \($0.state) \($0.attempts) \($0.failureKind?.rawValue ?? "-")" }
                == ["\(legacyQueued) queued 2 -", "\(legacyFailed) failed 0 unrecorded"])
        while try restarted.explanationTick() {}
        #expect(launcher.launches == [legacyQueued])
        #expect(ws.outputs().filter { $0.hasSuffix(".explain.dcm") } == ["brixia_E.10_v1.explain.dcm"])
        #expect(try ws.explanationJobs().map(\.state) == [.done, .failed])
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: root.path)) == [legacyFailed, "stray"])
    }

    @Test func shutdownEndsTheWorkerAndKeepsTheJob() throws {
        let ws = try Self.workspace()
        let launcher = FakeExplanationLauncher()
        launcher.ticks = 100
        let engine = ws.engine(explaining: launcher)
        try engine.prepareFolders()
        try ws.admit("E.7", sop: "E.7.1", as: "e7.dcm", into: engine)
        _ = try engine.processNext()
        #expect(try engine.explanationTick())
        engine.stopExplanationWorker()
        #expect(launcher.workers.first?.events.last == "terminate")
        #expect(try engine.pendingExplanations().count == 1)
    }
}

@Suite struct ExplanationConfigTests {
    let cwd = URL(fileURLWithPath: NSTemporaryDirectory())

    func resolve(_ text: String?, env: [String: String] = [:]) throws -> PipelineConfig {
        var path: String?
        if let text {
            let file = cwd.appendingPathComponent("brixia-explain-\(UUID().uuidString).conf")
            try Data(text.utf8).write(to: file)
            path = file.path
        }
        return try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: path, environment: env, currentDirectory: cwd)
    }

    @Test func explainIsOffByDefaultAndSetByFileOrEnvironment() throws {
        let d = try resolve(nil)
        #expect(d.explain == false && d.explainSegments == 180)
        let kv = try resolve("explain = yes\nexplain_segments = 12\n")
        #expect(kv.explain && kv.explainSegments == 12)
        let json = try resolve(#"{"explain": true, "explainSegments": 40}"#)
        #expect(json.explain && json.explainSegments == 40)
        #expect(try resolve("explain = true\n", env: ["BRIXIA_EXPLAIN": "0"]).explain == false)
        #expect(try resolve(nil, env: ["BRIXIA_EXPLAIN": "true"]).explain)
    }

    @Test func badExplainValuesAreConfigErrors() throws {
        #expect(throws: ConfigError.self) { try resolve("explain = maybe\n") }
        #expect(throws: ConfigError.self) { try resolve("explain_segments = 2\n") }
        #expect(throws: ConfigError.self) { try resolve("explain_segments = many\n") }
        #expect(throws: ConfigError.self) { try resolve(nil, env: ["BRIXIA_EXPLAIN": "sometimes"]) }
    }

    @Test func theSampleConfigKeepsExplanationsOff() throws {
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Samples/brixia.conf.example")
        let c = try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: sample.path, environment: [:], currentDirectory: cwd)
        #expect(c.explain == false && c.explainSegments == 180)
    }
}
