#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The workspace of one explanation job: a folder in `<outbox>/.brixia-explain/` (same file system as the
/// outbox, so the finished Secondary Capture is published by rename). Its state (queued, running, attempts,
/// failures, worker pid) is a row of the Store's `explanation_jobs`, not a file here. Layout:
///
///     job.json   ExplanationJob (written while the study is staged, before its manifest)
///     source.dcm the analysed image (a copy: the input may be archived or deleted afterwards)
///     worker.log the worker's stderr
///     out/       the finished SC + result.json; appears atomically (rename of out.tmp/) and is never
///                rewritten, so a crash can neither lose it nor make a second SC with new UIDs
///
/// The folder moves from the study's staging folder into the queue only after the analysis is
/// committed: a queued explanation always belongs to a stored analysis, and the scores never wait for it.
public struct ExplanationJob: Sendable, Codable, Equatable {
    public var analysis: StudyAnalysis
    /// Name of the published SC in the outbox (`<baseName>.explain.dcm`).
    public var outputFileName: String
    /// SLIC super-pixels over the whole image (the paper: about 180).
    public var segments: Int
    public init(analysis: StudyAnalysis, outputFileName: String, segments: Int) {
        self.analysis = analysis; self.outputFileName = outputFileName; self.segments = segments
    }
}

/// What the worker wrote into `out/`: the SC and, beside it, the strength map as a SEG.
public struct ExplanationResult: Sendable, Codable, Equatable {
    public var fileName: String
    public var sopInstanceUID: String
    public var seriesInstanceUID: String?
    /// The DICOM Segmentation of the strength map (absent in results of workers before it was written).
    public var segmentation: ExplanationFile?
    public init(fileName: String, sopInstanceUID: String, seriesInstanceUID: String?, segmentation: ExplanationFile? = nil) {
        self.fileName = fileName; self.sopInstanceUID = sopInstanceUID; self.seriesInstanceUID = seriesInstanceUID
        self.segmentation = segmentation
    }
}

/// One more object written by the worker into `out/`.
public struct ExplanationFile: Sendable, Codable, Equatable {
    public var fileName: String
    public var sopInstanceUID: String
    public var seriesInstanceUID: String?
    public init(fileName: String, sopInstanceUID: String, seriesInstanceUID: String?) {
        self.fileName = fileName; self.sopInstanceUID = sopInstanceUID; self.seriesInstanceUID = seriesInstanceUID
    }
}

public struct ExplanationJobError: Error, Sendable, CustomStringConvertible {
    public var folder: String
    public var reason: String
    public init(folder: String, reason: String) { self.folder = folder; self.reason = reason }
    public var description: String { "explanation job \(folder): \(reason)" }
}

/// Access to one job folder, for the pipeline and for the worker process (`brixia explain-worker`).
public struct ExplanationJobFolder: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url }

    static let jobName = "job.json", sourceName = "source.dcm", attemptsName = "attempts"
    static let outName = "out", outTmpName = "out.tmp", resultName = "result.json", lockName = "lock"
    public static let logName = "worker.log"
    /// Worker exit status for a job that can never succeed (e.g. no lung in the mask, another model):
    /// the pipeline sets it aside at once instead of retrying.
    public static let permanentFailureStatus: Int32 = 65

    public var source: URL { url.appendingPathComponent(Self.sourceName) }
    public var outFolder: URL { url.appendingPathComponent(Self.outName) }
    public var log: URL { url.appendingPathComponent(Self.logName) }
    public var isComputed: Bool { FileOps.exists(outFolder.appendingPathComponent(Self.resultName)) }

    public func job() throws -> ExplanationJob {
        let file = url.appendingPathComponent(Self.jobName)
        do {
            let dec = JSONDecoder(); dec.dateDecodingStrategy = .iso8601
            return try dec.decode(ExplanationJob.self, from: Data(contentsOf: file))
        } catch {
            throw ExplanationJobError(folder: url.path, reason: "cannot read \(Self.jobName): \(error)")
        }
    }

    public func result() throws -> ExplanationResult {
        let file = outFolder.appendingPathComponent(Self.resultName)
        do { return try JSONDecoder().decode(ExplanationResult.self, from: Data(contentsOf: file)) } catch {
            throw ExplanationJobError(folder: url.path, reason: "cannot read \(Self.outName)/\(Self.resultName): \(error)")
        }
    }

    /// Launches counted by a brixia from before the `explanation_jobs` table (its `attempts` file); read
    /// once when such a folder is adopted.
    var legacyAttempts: Int {
        (try? String(contentsOf: url.appendingPathComponent(Self.attemptsName), encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }

    /// Writes the job into a new folder (staging side): source copy first, job.json last.
    static func create(at url: URL, job: ExplanationJob, sourceFile: URL, writer: any FileWriting) throws {
        try? FileManager.default.removeItem(at: url)
        try FileOps.ensureDirectory(url)
        let src = url.appendingPathComponent(sourceName)
        do { try FileManager.default.copyItem(at: sourceFile, to: src) } catch {
            throw FileOpError("copy source for explanation", sourceFile.path, errno: EIO)
        }
        try FileOps.fsyncFile(src.path)
        let enc = JSONEncoder(); enc.dateEncodingStrategy = .iso8601; enc.outputFormatting = [.sortedKeys]
        try writer.writeAtomically(try enc.encode(job), to: url.appendingPathComponent(jobName))
    }

    /// Worker side: takes a POSIX record lock (write lock over the whole `lock` file; waits while another
    /// process holds it) for the life of the process. The kernel then knows which process computes the job:
    /// a worker orphaned by a killed pipeline and a new one never compute it at once, and the pipeline finds
    /// an orphan by asking who holds the lock (`lockHolder`), not by trusting a recorded pid (pids are reused)
    /// or reading other processes' command lines.
    public func lockForWorker() throws {
        let fd = open(url.appendingPathComponent(Self.lockName).path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileOpError("open lock", url.path, errno: errno) }
        var lock = Self.wholeFileWriteLock()
        while fcntl(fd, F_SETLKW, &lock) != 0 {
            if errno != EINTR { let e = errno; close(fd); throw FileOpError("lock", url.path, errno: e) }
        }
        // fd deliberately kept open (and the file never opened again by the worker: closing any descriptor of
        // it would drop a POSIX lock): the lock lasts until the process exits, however it exits.
    }

    /// The process holding this job's worker lock, if any (F_GETLK: the kernel's answer, also for a stopped
    /// process). Never the calling process itself: F_GETLK does not report a process's own locks.
    func lockHolder() -> Int32? {
        let fd = open(url.appendingPathComponent(Self.lockName).path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var lock = Self.wholeFileWriteLock()
        guard fcntl(fd, F_GETLK, &lock) == 0, Int32(lock.l_type) != F_UNLCK, lock.l_pid > 0 else { return nil }
        return lock.l_pid
    }

    static func wholeFileWriteLock() -> flock {
        var lock = flock()
        lock.l_type = Int16(F_WRLCK); lock.l_whence = Int16(SEEK_SET); lock.l_start = 0; lock.l_len = 0
        return lock
    }

    /// Pipeline side, before launching: a worker still holding this job's lock belongs to a pipeline that was
    /// killed (possibly stopped with SIGSTOP at that moment, so it would never exit by itself). It is killed,
    /// and the launch waits (up to `timeout`) until the kernel has released its lock. Returns the process id
    /// killed, if any.
    @discardableResult
    func killStaleWorker(timeout: TimeInterval = 5) -> Int32? {
        guard let pid = lockHolder(), pid > 1 else { return nil }
        kill(pid, SIGKILL)
        kill(pid, SIGCONT)
        let end = Date().addingTimeInterval(timeout)
        while Date() < end, lockHolder() == pid { usleep(20_000) }
        return pid
    }

    /// Worker side: `write` puts the SC into the empty folder it is given and returns its result;
    /// the folder then becomes `out/` in one rename. Does nothing when `out/` already exists.
    public func commitResult(_ write: (URL) throws -> ExplanationResult) throws {
        if isComputed { return }
        let tmp = url.appendingPathComponent(Self.outTmpName)
        try? FileManager.default.removeItem(at: tmp)
        // An out/ without result.json cannot come from commitResult (it is renamed complete); clear it.
        try? FileManager.default.removeItem(at: outFolder)
        try FileOps.ensureDirectory(tmp)
        let r = try write(tmp)
        try FileOps.fsyncFile(tmp.appendingPathComponent(r.fileName).path)
        if let seg = r.segmentation { try FileOps.fsyncFile(tmp.appendingPathComponent(seg.fileName).path) }
        try POSIXFileWriter().writeAtomically(try JSONEncoder().encode(r), to: tmp.appendingPathComponent(Self.resultName))
        if rename(tmp.path, outFolder.path) != 0 { throw FileOpError("rename", tmp.path, errno: errno) }
        FileOps.syncDirectory(url.path)
    }
}
