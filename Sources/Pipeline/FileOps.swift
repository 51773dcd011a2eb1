#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import TextSafety

/// A file-system error with the path and the operation it came from.
public struct FileOpError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32
    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
    public init(_ operation: String, _ path: String, errno: Int32) {
        self.operation = operation; self.path = path; self.errno = errno
    }
}

/// Writes small files the pipeline itself produces (manifests, reason files). A seam so tests can
/// simulate a full disk.
public protocol FileWriting: Sendable {
    /// Writes `data` to `url` durably: temp name in the same folder, fsync, rename.
    func writeAtomically(_ data: Data, to url: URL) throws
}

public struct POSIXFileWriter: FileWriting {
    public init() {}
    public func writeAtomically(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent().path
        let tmp = dir + "/.\(url.lastPathComponent).\(getpid()).tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, FileOps.fileMode)
        guard fd >= 0 else { throw FileOpError("create", tmp, errno: errno) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        try data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    let e = errno; close(fd); throw FileOpError("write", tmp, errno: e)
                }
                off += n
            }
        }
        if fsync(fd) != 0 { let e = errno; close(fd); throw FileOpError("fsync", tmp, errno: e) }
        if close(fd) != 0 { throw FileOpError("close", tmp, errno: errno) }
        if rename(tmp, url.path) != 0 { throw FileOpError("rename", url.path, errno: errno) }
        ok = true
        FileOps.syncDirectory(dir)
    }
}

public enum FileOps {
    /// Makes a rename durable.
    public static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    public static func fsyncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileOpError("open", path, errno: errno) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw FileOpError("fsync", path, errno: errno) }
    }

    /// Modes of what Brixia creates. Process-wide like the umask that `FilePrivacy.apply` sets with them, once at
    /// start-up from the configuration (`fileGroup`); behind a mutex so any thread may read them.
    public struct Modes: Sendable, Equatable {
        public var folder: mode_t
        public var file: mode_t
        /// Folders 0700, files 0600.
        public static let owner = Modes(folder: 0o700, file: 0o600)
        /// Group-shared: folders 2770 (set-gid, so new entries keep the group), files 0660.
        public static let group = Modes(folder: 0o2770, file: 0o660)
    }
    private static let modes = Mutex(Modes.owner)
    static func setModes(_ m: Modes) { modes.withLock { $0 = m } }
    /// Mode of the folders Brixia creates: private (0700), or group-shared (2770) when an operator configured
    /// a group for a PACS sender (`fileGroup`).
    public static var folderMode: mode_t { modes.withLock { $0.folder } }
    /// Mode of the files Brixia writes itself (0600, or 0660 with a configured group).
    public static var fileMode: mode_t { modes.withLock { $0.file } }

    /// Creates `url` and any missing parents (mode `folderMode`), reporting the real errno.
    public static func ensureDirectory(_ url: URL) throws {
        let path = url.standardizedFileURL.path
        switch FileKind.of(path) {
        case .directory: return
        case .missing: break
        case .regular: throw FileOpError("use as folder", path, errno: ENOTDIR)
        case .other(let kind):
            // Never create through, or write into, a link or a special file someone planted.
            throw FileOpError("use as folder (it is a \(kind))", path, errno: ENOTDIR)
        }
        let parent = (path as NSString).deletingLastPathComponent
        if parent != path && !parent.isEmpty { try ensureDirectory(URL(fileURLWithPath: parent)) }
        if mkdir(path, folderMode) != 0 {
            let e = errno
            if e == EEXIST, case .directory = FileKind.of(path) { return }
            throw FileOpError("create folder", path, errno: e)
        }
        // mkdir's mode is filtered by the umask; set it exactly.
        _ = chmod(path, folderMode)
    }

    /// Throws unless `url` (after resolving every symbolic link of its existing part) lies inside
    /// `root` (resolved the same way). Guards every path built from outside values before a write.
    public static func requireInside(_ url: URL, root: URL, what: String) throws {
        let r = resolvedPath(root.standardizedFileURL.path)
        let p = resolvedPath(url.standardizedFileURL.path)
        guard p == r || p.hasPrefix(r.hasSuffix("/") ? r : r + "/") else {
            throw FileOpError("refuse to write \(what) outside \(r)", SafeText.escape(url.path), errno: EPERM)
        }
    }

    /// realpath of the longest existing prefix, with the rest appended unchanged ("." and ".." were
    /// already removed by standardisation, so the rest cannot climb out).
    static func resolvedPath(_ path: String) -> String {
        var head = path, tail: [String] = []
        while !head.isEmpty && head != "/" {
            if let r = realpath(head, nil) {
                defer { free(r) }
                let base = String(cString: r)
                return tail.isEmpty ? base : (base == "/" ? "" : base) + "/" + tail.reversed().joined(separator: "/")
            }
            tail.append((head as NSString).lastPathComponent)
            head = (head as NSString).deletingLastPathComponent
        }
        return "/" + tail.reversed().joined(separator: "/")
    }

    /// Renames `src` to `dst` (same file system), creating `dst`'s folder. Falls back to copy +
    /// fsync + unlink across file systems.
    public static func move(_ src: URL, to dst: URL) throws {
        try ensureDirectory(dst.deletingLastPathComponent())
        if rename(src.path, dst.path) == 0 {
            // A sender's file keeps its own mode through rename: make the archived/quarantined copy private.
            if case .regular = FileKind.of(dst.path) { _ = chmod(dst.path, fileMode) }
            syncDirectory(dst.deletingLastPathComponent().path)
            return
        }
        let e = errno
        guard e == EXDEV else { throw FileOpError("move to \(dst.path)", src.path, errno: e) }
        let tmp = dst.deletingLastPathComponent().appendingPathComponent(".\(dst.lastPathComponent).copying")
        unlink(tmp.path)
        do { try FileManager.default.copyItem(at: src, to: tmp) } catch {
            throw FileOpError("copy to \(tmp.path)", src.path, errno: EIO)
        }
        try fsyncFile(tmp.path)
        if rename(tmp.path, dst.path) != 0 { throw FileOpError("rename", dst.path, errno: errno) }
        syncDirectory(dst.deletingLastPathComponent().path)
        if unlink(src.path) != 0 && errno != ENOENT { throw FileOpError("remove", src.path, errno: errno) }
    }

    /// `dir/name`, or `dir/name~2`, `~3`, ... when taken (never overwrites).
    public static func freeName(in dir: URL, for name: String) -> URL {
        let name = boundedName(name)
        var candidate = dir.appendingPathComponent(name)
        var n = 2
        // lstat: a dangling link planted in the archive must count as taken, not be replaced.
        while FileKind.of(candidate.path) != .missing || FileKind.of(candidate.path + ".reason.txt") != .missing {
            candidate = dir.appendingPathComponent("\(name)~\(n)")
            n += 1
        }
        return candidate
    }

    /// A file name that leaves room for "~N.reason.txt" under NAME_MAX (255 bytes): longer names are
    /// cut on a character boundary and given a hash of the whole name, so they stay distinct.
    static func boundedName(_ name: String, maxBytes: Int = 200) -> String {
        guard name.utf8.count > maxBytes else { return name }
        var head = ""
        for ch in name {
            if head.utf8.count + String(ch).utf8.count > maxBytes - 17 { break }
            head.append(ch)
        }
        return head + "~" + String(ContentHash.sha256(name).prefix(16))
    }

    /// True when some process we can see holds `path` open for writing (Linux /proc). A sender that
    /// paused mid-file still has it open; a truncated file left behind does not.
    public static func isOpenForWriting(_ path: String) -> Bool {
        guard let target = realpath(path, nil) else { return false }
        let wanted = String(cString: target); free(target)
        guard let pids = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return false }
        for pid in pids where pid.allSatisfy(\.isNumber) {
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { continue }
            for fd in fds {
                var buf = [CChar](repeating: 0, count: 4097)
                let n = readlink("/proc/\(pid)/fd/\(fd)", &buf, 4096)
                guard n > 0, String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) == wanted,
                      let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8),
                      let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags:") }),
                      let flags = Int(flagsLine.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8)
                else { continue }
                if flags & Int(O_ACCMODE) != Int(O_RDONLY) { return true }
            }
        }
        return false
    }

    /// True for anything at the path, a dangling symbolic link included (never follows it).
    public static func exists(_ url: URL) -> Bool { FileKind.of(url.path) != .missing }

    /// A file-name-safe token for a DICOM UID (UIDs are digits and dots, but never trust input):
    /// one path component that is never ".", ".." or hidden (a StudyInstanceUID of ".." once put a
    /// study beside the archive instead of in it).
    public static func safeToken(_ s: String) -> String {
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_")
        var t = String(String(s.map { allowed.contains($0) ? $0 : "_" }).prefix(100))
        if t.hasPrefix(".") { t = "_" + t.dropFirst() }
        return t.isEmpty ? "unknown" : t
    }
}
