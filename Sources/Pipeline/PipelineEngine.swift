import DicomNetwork
import Foundation
import Logging
import TextSafety
#if canImport(Glibc)
import Glibc
#endif

/// What the engine is built from. Production: `ProductionPipeline.make(config:)`; tests: doubles.
public struct PipelineDependencies: Sendable {
    public var inspector: any InstanceInspector
    public var scorer: any StudyScorer
    public var reports: any ReportSink
    public var store: PipelineStore
    public var fileWriter: any FileWriting
    public var now: @Sendable () -> Date
    /// Starts explanation workers (nil = explanations off); see ExplanationScheduling.swift.
    public var explanationLauncher: (any ExplanationLauncher)?
    /// The PACS queue, over the same store as `store` (nil: no destinations, or test doubles that keep no queue).
    public var outgoing: OutgoingQueue?
    public init(inspector: any InstanceInspector, scorer: any StudyScorer, reports: any ReportSink, store: PipelineStore,
                fileWriter: any FileWriting = POSIXFileWriter(), now: @escaping @Sendable () -> Date = { Date() },
                explanationLauncher: (any ExplanationLauncher)? = nil, outgoing: OutgoingQueue? = nil) {
        self.inspector = inspector; self.scorer = scorer; self.reports = reports; self.store = store
        self.fileWriter = fileWriter; self.now = now; self.explanationLauncher = explanationLauncher
        self.outgoing = outgoing
    }
}

/// The synchronous core: intake of stable files, processing of one job, recovery. Not thread-safe;
/// `PipelineRunner` calls it one step at a time.
/// @unchecked Sendable: only `PipelineRunner` calls it, always inside `onEngine` while holding its engine lock (so
/// never from two threads at once); tests drive it from one thread. Hooks leave through `alertHooks`, which has its
/// own queue.
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
    /// Alert hooks run here, off the scoring path (AlertHook.swift).
    public let alertHooks = AlertHookQueue()
    /// Irregular inbox entries already reported (each is logged once, not on every rescan).
    var reportedIrregular = Set<String>()
    /// Unreadable files being waited for (size and mtime when last found unreadable).
    var deferredUnreadable: [String: (size: Int64, mtime: Date)] = [:]
    /// The daemon waits `incompleteFileGrace` before quarantining an unreadable file; `run --once`
    /// (the operator says the inbox is complete) does not.
    public var waitForIncompleteFiles = false

    static let stagingFolderName = ".brixia-staging"
    static let manifestName = "manifest.json"

    public init(config: PipelineConfig, dependencies: PipelineDependencies, logger: Logger) {
        self.config = config; self.deps = dependencies; self.log = logger
    }

    var stagingRoot: URL { config.outbox.appendingPathComponent(PipelineEngine.stagingFolderName) }

    /// A short, non-identifying reference for info-level logs (full UIDs only at debug).
    static func ref(_ uid: String) -> String { StudyReference.of(uid) }

    public func resetSummary() { summary = RunSummary() }

    /// Creates the folders that must exist (inbox, archive, quarantine). The outbox is created
    /// lazily by each job so that an unusable outbox fails jobs (and is retried) instead of the daemon.
    public func prepareFolders() throws {
        for dir in [config.inbox, config.archive, config.quarantine] { try FileOps.ensureDirectory(dir) }
    }

    // MARK: intake

    public enum IntakeOutcome: Equatable, Sendable {
        case recorded, alreadyTracked, duplicate, quarantined, vanished
        /// Unreadable but possibly still being written (a writer holds it open, or it changed within
        /// the grace period): left where it is and looked at again later.
        case waiting
    }

    /// Takes one stable inbox file: quarantine, duplicate disposal, or an arrival in the store.
    @discardableResult
    public func intake(_ file: URL) throws -> IntakeOutcome {
        switch FileKind.of(file.path) {
        case .missing: return .vanished
        case .regular: break
        case .directory: return .vanished   // a folder is walked by the scanner, never taken as a file
        case .other(let kind):
            // Replaced by a link or special file since the scan: never opened.
            setAsideIrregular([InboxScanner.Irregular(url: file, kind: kind)])
            return .quarantined
        }
        guard let before = FileKind.lstatRegular(file.path) else { return .vanished }
        if let d = deferredUnreadable[file.path], d.size == before.size, d.mtime == before.mtime,
           Date().timeIntervalSince(before.mtime) < config.incompleteFileGrace {   // wall clock: compared with an mtime
            return .waiting   // unchanged since it was found unreadable: neither hash nor read it again yet
        }
        let hash: String
        do { hash = try ContentHash.sha256(of: file) } catch {
            if !FileOps.exists(file) { return .vanished }
            throw error
        }
        let inspected: InspectedInstance
        do { inspected = try deps.inspector.inspect(file: file) } catch let r as InputRejection {
            // A sender that pauses mid-file must not lose its file to the quarantine (it would go on
            // writing into the moved file): wait while it is open for writing, changed meanwhile, or
            // (daemon) younger than the grace period.
            let now = FileKind.lstatRegular(file.path)
            let changed = now.map { $0.size != before.size || $0.mtime != before.mtime } ?? true
            let young = waitForIncompleteFiles && Date().timeIntervalSince(before.mtime) < config.incompleteFileGrace
            if changed || young || FileOps.isOpenForWriting(file.path) {
                if deferredUnreadable[file.path] == nil {
                    log.info("unreadable file left in the inbox for now: it may still be being written", metadata: [
                        "file": "\(relativeInboxPath(file))", "reason": "\(r.reason)"])
                }
                deferredUnreadable[file.path] = now.map { (size: $0.size, mtime: $0.mtime) } ?? before
                return .waiting
            }
            deferredUnreadable[file.path] = nil
            try quarantineFile(file, reason: "unreadable: \(r.reason)")
            return .quarantined
        }
        deferredUnreadable[file.path] = nil
        let m = inspected.metadata
        if !inspected.eligibility.eligible {
            try quarantineFile(file, reason: "not eligible: \(inspected.eligibility.reason)",
                               detail: [("SOP Instance UID", m.sopInstanceUID), ("Study Instance UID", m.studyInstanceUID)])
            return .quarantined
        }
        if let known = try deps.store.instance(sopInstanceUID: m.sopInstanceUID, studyInstanceUID: m.studyInstanceUID) {
            if known.contentSHA256 == hash {
                // The file we recorded, still waiting for (or in) processing: nothing to do.
                let job = try deps.store.job(studyInstanceUID: m.studyInstanceUID)
                if known.filePath == file.path && (job?.state.keepsInputsInInbox ?? false) { return .alreadyTracked }
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
                               detail: [("SOP Instance UID", m.sopInstanceUID), ("Study Instance UID", m.studyInstanceUID)])
            return .quarantined
        }
        log.info("instance received", metadata: ["file": "\(file.lastPathComponent)", "study": "\(Self.ref(m.studyInstanceUID))"])
        log.debug("instance ids", metadata: ["patientID": "\(m.patientID)", "studyInstanceUID": "\(m.studyInstanceUID)",
                                             "sopInstanceUID": "\(m.sopInstanceUID)"])
        return .recorded
    }

    // MARK: dispositions

    /// Writes `<name>.reason.txt` first, then moves the file: a crash in between leaves the file in
    /// the inbox, and the next pass quarantines it again (overwriting the same reason). Every value in
    /// the reason file is escaped (one line per field; nothing from the input can add a line).
    /// `asIs` (links, FIFOs, devices): rename(2) moves the entry itself and there is no copy fallback
    /// (copying would follow a link or block on a FIFO); if the rename fails the reason file goes too.
    func quarantineFile(_ file: URL, reason: String, detail: [(String, String)] = [], asIs: Bool = false) throws {
        let rel = relativeInboxPath(file)
        let dir = Self.parentFolder(of: rel).map { config.quarantine.appendingPathComponent($0) } ?? config.quarantine
        try FileOps.requireInside(dir, root: config.quarantine, what: "quarantine entry")
        try FileOps.ensureDirectory(dir)
        let dst = FileOps.freeName(in: dir, for: file.lastPathComponent)
        var text = "file: \(SafeText.escape(rel))\nreason: \(SafeText.escape(reason))\n"
            + "quarantined at: \(ISO8601DateFormatter().string(from: deps.now()))\n"
        for (k, v) in detail { text += "\(k): \(SafeText.escape(v))\n" }
        let reasonFile = URL(fileURLWithPath: dst.path + ".reason.txt")
        try deps.fileWriter.writeAtomically(Data(text.utf8), to: reasonFile)
        if asIs {
            guard rename(file.path, dst.path) == 0 else {
                let err = FileOpError("move to \(dst.path)", file.path, errno: errno)
                unlink(reasonFile.path)
                throw err
            }
            FileOps.syncDirectory(dir.path)
        } else {
            try FileOps.move(file, to: dst)
        }
        summary.filesQuarantined += 1
        summary.quarantined.append(QuarantinedInput(file: SafeText.escape(rel), reason: SafeText.escape(reason)))
        // The file is already safe with its reason file; failing to note it in the store only costs
        // the `status` listing, so it is logged, not thrown.
        do { try deps.store.recordQuarantinedFile(SafeText.escape(rel), reason: SafeText.escape(reason), at: deps.now()) }
        catch { log.error("cannot record a quarantined file in the store", metadata: ["error": "\(error)"]) }
        log.warning("file quarantined", metadata: ["file": "\(rel)", "reason": "\(reason)"])
    }

    /// Sets aside inbox entries that are not regular files (symbolic links, FIFOs, sockets, devices,
    /// folders nested too deep): each is renamed as it is into the quarantine, never opened or
    /// followed. Where it cannot be renamed (another file system), it stays and is reported once.
    func setAsideIrregular(_ entries: [InboxScanner.Irregular]) {
        for e in entries {
            let reason = "not a regular file: \(e.kind)"
            do { try quarantineFile(e.url, reason: reason, asIs: true) } catch {
                if reportedIrregular.insert(e.url.path).inserted {
                    let rel = SafeText.escape(relativeInboxPath(e.url))
                    summary.failures.append("inbox entry \(rel) left in place: \(reason); \(error)")
                    log.error("inbox entry left in place", metadata: ["file": "\(rel)", "reason": "\(reason)", "error": "\(error)"])
                }
            }
        }
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
        try FileOps.requireInside(dst, root: config.archive, what: "archived input")
        try FileOps.move(file, to: dst)
        summary.filesArchived += 1
        return dst.path
    }

    /// "a/b/c.dcm" -> "a/b"; nil for a bare name. (NSString.deletingLastPathComponent crashed this
    /// Foundation on a bare one-character name such as "x".)
    static func parentFolder(of rel: String) -> String? {
        guard let i = rel.lastIndex(of: "/") else { return nil }
        let p = String(rel[..<i])
        return p.isEmpty ? nil : p
    }

    func relativeInboxPath(_ file: URL) -> String {
        // Lexical only: resolving would follow the very link being set aside.
        let root = config.inbox.path.hasSuffix("/") ? String(config.inbox.path.dropLast()) : config.inbox.path
        let p = file.path
        if p.hasPrefix(root + "/") { return String(p.dropFirst(root.count + 1)) }
        return file.lastPathComponent
    }

    func archiveFolder(_ studyUID: String) -> URL {
        config.archive.appendingPathComponent(FileOps.safeToken(studyUID))
    }
}
