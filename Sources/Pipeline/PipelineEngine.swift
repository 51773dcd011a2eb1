import Foundation
import Logging

/// What the engine is built from. Production: `ProductionPipeline.make(config:)`; tests: doubles.
public struct PipelineDependencies: Sendable {
    public var inspector: any InstanceInspector
    public var scorer: any StudyScorer
    public var reports: any ReportSink
    public var store: any JobStore
    public var fileWriter: any FileWriting
    public var now: @Sendable () -> Date
    /// Starts explanation workers (nil = explanations off); see ExplanationScheduling.swift.
    public var explanationLauncher: (any ExplanationLauncher)?
    public init(inspector: any InstanceInspector, scorer: any StudyScorer, reports: any ReportSink, store: any JobStore,
                fileWriter: any FileWriting = POSIXFileWriter(), now: @escaping @Sendable () -> Date = { Date() },
                explanationLauncher: (any ExplanationLauncher)? = nil) {
        self.inspector = inspector; self.scorer = scorer; self.reports = reports; self.store = store
        self.fileWriter = fileWriter; self.now = now; self.explanationLauncher = explanationLauncher
    }
}

/// The synchronous core: intake of stable files, processing of one job, recovery. Not thread-safe;
/// `PipelineRunner` calls it from one serial queue.
public final class PipelineEngine: @unchecked Sendable {
    public let config: PipelineConfig
    let deps: PipelineDependencies
    var log: Logger
    public internal(set) var summary = RunSummary()
    /// Asked between the durable steps of a study; returning true abandons the study right there
    /// (as a crash would). Used by the crash-recovery tests; nil in production (studies finish).
    public var interruptCheck: (@Sendable (ProcessingStep) -> Bool)?
    /// The same for the explanation steps (ExplanationScheduling.swift).
    public var explanationInterruptCheck: (@Sendable (ExplanationStep) -> Bool)?
    var explanationWorker: RunningExplanation?

    static let stagingFolderName = ".brixia-staging"
    static let manifestName = "manifest.json"

    public init(config: PipelineConfig, dependencies: PipelineDependencies, logger: Logger) {
        self.config = config; self.deps = dependencies; self.log = logger
    }

    var stagingRoot: URL { config.outbox.appendingPathComponent(PipelineEngine.stagingFolderName) }

    /// A short, non-identifying reference for info-level logs (full UIDs only at debug).
    static func ref(_ uid: String) -> String { String(ContentHash.sha256(uid).prefix(12)) }

    public func resetSummary() { summary = RunSummary() }

    /// Creates the folders that must exist (inbox, archive, quarantine). The outbox is created
    /// lazily by each job so that an unusable outbox fails jobs (and is retried) instead of the daemon.
    public func prepareFolders() throws {
        for dir in [config.inbox, config.archive, config.quarantine] { try FileOps.ensureDirectory(dir) }
    }

    // MARK: intake

    public enum IntakeOutcome: Equatable, Sendable {
        case recorded, alreadyTracked, duplicate, quarantined, vanished
    }

    /// Takes one stable inbox file: quarantine, duplicate disposal, or an arrival in the store.
    @discardableResult
    public func intake(_ file: URL) throws -> IntakeOutcome {
        guard FileOps.exists(file) else { return .vanished }
        let hash: String
        do { hash = try ContentHash.sha256(of: file) } catch {
            if !FileOps.exists(file) { return .vanished }
            throw error
        }
        let inspected: InspectedInstance
        do { inspected = try deps.inspector.inspect(file: file) } catch let r as InputRejection {
            try quarantineFile(file, reason: "unreadable: \(r.reason)")
            return .quarantined
        }
        let m = inspected.metadata
        if case .ineligible(let reason) = inspected.eligibility {
            try quarantineFile(file, reason: "not eligible: \(reason)",
                               detail: "SOP Instance UID: \(m.sopInstanceUID)\nStudy Instance UID: \(m.studyInstanceUID)")
            return .quarantined
        }
        if let known = try deps.store.instance(sopInstanceUID: m.sopInstanceUID, studyInstanceUID: m.studyInstanceUID) {
            if known.contentHash == hash {
                // The file we recorded, still waiting for (or in) processing: nothing to do.
                let job = try deps.store.job(studyInstanceUID: known.studyInstanceUID)
                if known.path == file.path && (job?.state.isPending ?? false) { return .alreadyTracked }
                log.info("re-delivered identical instance ignored", metadata: [
                    "file": "\(file.lastPathComponent)", "study": "\(Self.ref(m.studyInstanceUID))"])
                log.debug("duplicate instance", metadata: ["sopInstanceUID": "\(m.sopInstanceUID)"])
                try disposeFile(file, studyUID: m.studyInstanceUID)
                summary.duplicatesIgnored += 1
                return .duplicate
            }
            log.info("instance re-delivered with changed content; study will be re-analysed", metadata: [
                "file": "\(file.lastPathComponent)", "study": "\(Self.ref(m.studyInstanceUID))"])
        }
        do { try deps.store.recordArrival(m, contentHash: hash, path: file.path, at: deps.now()) } catch let r as InputRejection {
            // The file contradicts what is stored (e.g. its study UID is filed under another patient).
            try quarantineFile(file, reason: "inconsistent with earlier instances: \(r.reason)",
                               detail: "SOP Instance UID: \(m.sopInstanceUID)\nStudy Instance UID: \(m.studyInstanceUID)")
            return .quarantined
        }
        log.info("instance received", metadata: ["file": "\(file.lastPathComponent)", "study": "\(Self.ref(m.studyInstanceUID))"])
        log.debug("instance ids", metadata: ["patientID": "\(m.patientID)", "studyInstanceUID": "\(m.studyInstanceUID)",
                                             "sopInstanceUID": "\(m.sopInstanceUID)"])
        return .recorded
    }

    // MARK: dispositions

    /// Writes `<name>.reason.txt` first, then moves the file: a crash in between leaves the file in
    /// the inbox, and the next pass quarantines it again (overwriting the same reason).
    func quarantineFile(_ file: URL, reason: String, detail: String? = nil) throws {
        let rel = relativeInboxPath(file)
        let dir = config.quarantine.appendingPathComponent((rel as NSString).deletingLastPathComponent)
        try FileOps.ensureDirectory(dir)
        let dst = FileOps.freeName(in: dir, for: file.lastPathComponent)
        var text = "file: \(rel)\nreason: \(reason)\nquarantined at: \(ISO8601DateFormatter().string(from: deps.now()))\n"
        if let detail { text += detail + "\n" }
        try deps.fileWriter.writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: dst.path + ".reason.txt"))
        try FileOps.move(file, to: dst)
        summary.filesQuarantined += 1
        log.warning("file quarantined", metadata: ["file": "\(rel)", "reason": "\(reason)"])
    }

    /// Archives (or deletes) a processed or duplicate input. Returns the new path (nil if deleted).
    @discardableResult
    func disposeFile(_ file: URL, studyUID: String) throws -> String? {
        if config.deleteInsteadOfArchive {
            if unlink(file.path) != 0 && errno != ENOENT { throw FileOpError("delete", file.path, errno: errno) }
            summary.filesDeleted += 1
            return nil
        }
        let dst = FileOps.freeName(in: archiveFolder(studyUID), for: file.lastPathComponent)
        try FileOps.move(file, to: dst)
        summary.filesArchived += 1
        return dst.path
    }

    func relativeInboxPath(_ file: URL) -> String {
        let root = config.inbox.standardizedFileURL.path
        let p = file.standardizedFileURL.path
        if p.hasPrefix(root + "/") { return String(p.dropFirst(root.count + 1)) }
        return file.lastPathComponent
    }

    func archiveFolder(_ studyUID: String) -> URL {
        config.archive.appendingPathComponent(FileOps.safeToken(studyUID))
    }
}
