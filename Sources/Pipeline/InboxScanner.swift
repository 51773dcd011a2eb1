#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import TextSafety

/// Finds candidate files in the inbox (recursively: storescp writes per-study folders) and decides
/// when a file is complete: its size and mtime must be unchanged for `stabilityPeriod`.
///
/// Only regular files are ever candidates. The walk uses `lstat`: a symbolic link (to a file or a
/// folder), FIFO, socket or device is never followed or opened (following `ln -s .. inbox/up` once
/// moved the database and the outbox into quarantine); such entries are returned separately so the
/// pipeline can set them aside. Folder depth is bounded so a deep or looping tree cannot stall a pass.
public final class InboxScanner: Sendable {
    struct Observation: Equatable { var size: Int64; var mtime: Date; var firstSeenStable: Date }

    /// A directory entry that is not a regular file or a real folder.
    public struct Irregular: Sendable, Equatable {
        public var url: URL
        /// "symbolic link to /etc", "FIFO", "socket", "device", "folder nested deeper than 16 levels".
        public var kind: String
    }

    public struct Listing: Sendable {
        public var files: [URL] = []
        public var irregular: [Irregular] = []
    }

    public let inbox: URL
    public let stabilityPeriod: TimeInterval
    /// Folders deeper than this below the inbox are not walked (storescp uses one or two levels).
    public static let maxDepth = 16
    /// What each file looked like when last seen (size, mtime, since when unchanged).
    private let observations = Mutex<[String: Observation]>([:])

    public init(inbox: URL, stabilityPeriod: TimeInterval) {
        self.inbox = inbox; self.stabilityPeriod = stabilityPeriod
    }

    /// Temporary or partial names that writers use before the final rename.
    public static func isIgnoredName(_ name: String) -> Bool {
        if name.hasPrefix(".") { return true }
        let lower = name.lowercased()
        return lower.hasSuffix(".part") || lower.hasSuffix(".tmp") || lower.hasSuffix(".partial")
            || lower.hasSuffix(".crdownload") || lower.hasSuffix("~")
    }

    /// Every regular, non-ignored file under the inbox (ignored folders are skipped whole).
    public func listFiles() -> [URL] { scan().files }

    /// Regular files and the irregular entries found beside them, both sorted by path.
    public func scan() -> Listing {
        var out = Listing()
        walk(inbox, depth: 0, into: &out)
        out.files.sort { $0.path < $1.path }
        out.irregular.sort { $0.url.path < $1.url.path }
        return out
    }

    private func walk(_ dir: URL, depth: Int, into out: inout Listing) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where !InboxScanner.isIgnoredName(name) {
            let url = dir.appendingPathComponent(name)
            switch FileKind.of(url.path) {
            case .regular: out.files.append(url)
            case .directory:
                if depth + 1 > InboxScanner.maxDepth {
                    out.irregular.append(Irregular(url: url, kind: "folder nested deeper than \(InboxScanner.maxDepth) levels"))
                } else {
                    walk(url, depth: depth + 1, into: &out)
                }
            case .missing: continue
            case .other(let kind): out.irregular.append(Irregular(url: url, kind: kind))
            }
        }
    }

    /// Records the current size/mtime of `files` and returns those that are stable now.
    /// A file is stable when its mtime is at least `stabilityPeriod` old, or the same size/mtime
    /// has been observed for that long (covers clocks that disagree).
    public func stableFiles(_ files: [URL], now: Date = Date()) -> (stable: [URL], waiting: [URL]) {
        observations.withLock { observed in
            var stable: [URL] = [], waiting: [URL] = []
            for url in files {
                guard let st = FileKind.lstatRegular(url.path) else { continue }
                let (size, mtime) = (st.size, st.mtime)
                let obs: Observation
                if let prev = observed[url.path], prev.size == size, prev.mtime == mtime {
                    obs = prev
                } else {
                    obs = Observation(size: size, mtime: mtime, firstSeenStable: now)
                }
                observed[url.path] = obs
                // Old enough already, or unchanged across observations spanning the period.
                if now.timeIntervalSince(obs.mtime) >= stabilityPeriod
                    || now.timeIntervalSince(obs.firstSeenStable) >= stabilityPeriod {
                    stable.append(url)
                } else {
                    waiting.append(url)
                }
            }
            return (stable, waiting)
        }
    }

    /// Forgets a path (after the file was moved away).
    public func forget(_ url: URL) {
        observations.withLock { $0[url.path] = nil }
    }

    public func forgetMissing(except present: Set<String>) {
        observations.withLock { $0 = $0.filter { present.contains($0.key) } }
    }
}

/// What a path is, by `lstat` (a symbolic link is reported, never followed), or by `stat` with
/// `followingLinks` (configured folders may well be links an operator made).
public enum FileKind: Equatable, Sendable {
    case regular, directory, missing
    case other(String)

    public static func of(_ path: String, followingLinks: Bool = false) -> FileKind {
        var st = stat()
        guard (followingLinks ? stat(path, &st) : lstat(path, &st)) == 0 else { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK:
            var buf = [CChar](repeating: 0, count: 4097)
            let n = readlink(path, &buf, 4096)
            let target = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
            return .other("symbolic link to \(SafeText.escape(target)) (never followed)")
        case S_IFIFO: return .other("FIFO (named pipe)")
        case S_IFSOCK: return .other("socket")
        case S_IFCHR: return .other("character device")
        case S_IFBLK: return .other("block device")
        default: return .other("special file")
        }
    }

    /// Size and mtime of a regular file (nil for anything else, or when it is gone).
    public static func lstatRegular(_ path: String) -> (size: Int64, mtime: Date)? {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        let mtime = Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec) + TimeInterval(st.st_mtim.tv_nsec) / 1e9)
        return (Int64(st.st_size), mtime)
    }
}
