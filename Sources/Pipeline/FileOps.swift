#if canImport(Glibc)
import Glibc
#endif
import Foundation

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
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
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

    public static func ensureDirectory(_ url: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw FileOpError("use as folder", url.path, errno: ENOTDIR) }
            return
        }
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            let e = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
            throw FileOpError("create folder", url.path, errno: Int32(e?.code ?? Int(EIO)))
        }
    }

    /// Renames `src` to `dst` (same file system), creating `dst`'s folder. Falls back to copy +
    /// fsync + unlink across file systems.
    public static func move(_ src: URL, to dst: URL) throws {
        try ensureDirectory(dst.deletingLastPathComponent())
        if rename(src.path, dst.path) == 0 {
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
        var candidate = dir.appendingPathComponent(name)
        var n = 2
        while FileManager.default.fileExists(atPath: candidate.path)
                || FileManager.default.fileExists(atPath: candidate.path + ".reason.txt") {
            candidate = dir.appendingPathComponent("\(name)~\(n)")
            n += 1
        }
        return candidate
    }

    public static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    /// A file-name-safe token for a DICOM UID (UIDs are digits and dots, but never trust input).
    public static func safeToken(_ s: String) -> String {
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_")
        let t = String(s.map { allowed.contains($0) ? $0 : "_" }).prefix(100)
        return t.isEmpty ? "unknown" : String(t)
    }
}
