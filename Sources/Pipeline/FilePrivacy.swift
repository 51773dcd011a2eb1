#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Who may read what Brixia writes. The database, archive, quarantine, outbox and staging hold
/// names, birth dates and scores, so everything is private to the service account (folders 0700,
/// files 0600) whatever the umask it was started with; with `fileGroup` the group shares it
/// (2770 / 0660, set-gid folders keep the group) so that a PACS sender's account can drop files into
/// the inbox and a forwarder can read the outbox.
public enum FilePrivacy {
    /// Sets the process umask and the modes FileOps uses; returns the group id when one is configured.
    @discardableResult
    public static func apply(group: String?) throws -> gid_t? {
        guard let group else {
            umask(0o077)
            FileOps.setModes(.owner)
            return nil
        }
        let gid: gid_t
        if let n = UInt32(group) { gid = n }
        else if let g = getgrnam(group) { gid = g.pointee.gr_gid }
        else { throw ConfigError("fileGroup '\(group)' is not a group of this system (getent group \(group))") }
        umask(0o007)
        FileOps.setModes(.group)
        return gid
    }

    /// Brings the configured folders to the private (or group) mode; existing ones too, since a
    /// folder created earlier under a 022 umask is world-readable.
    public static func secureFolders(_ folders: [URL], group: gid_t?) throws {
        for dir in folders where FileKind.of(dir.path) == .directory {
            if let group, chown(dir.path, uid_t.max, group) != 0 {
                throw FileOpError("set group of", dir.path, errno: errno)
            }
            if chmod(dir.path, FileOps.folderMode) != 0 { throw FileOpError("set mode of", dir.path, errno: errno) }
        }
    }
}

/// One writer per database: `serve` and `run` hold an exclusive `flock` on `<database>.lock` for their
/// whole life (two daemons on one database once failed each other's jobs). The kernel drops the
/// lock when the process dies, so a crash never leaves a stale lock behind.
public final class DatabaseLock: Sendable {
    public let path: String
    private let fd: Int32

    public struct Busy: Error, CustomStringConvertible {
        public var database: String
        public var holder: String?
        public var description: String {
            "database \(database) is in use by another brixia serve/run\(holder.map { " (pid \($0))" } ?? "");"
                + " only one may process it at a time (read-only commands such as status and trend still work)"
        }
    }

    public init(database: URL) throws {
        path = database.path + ".lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, FileOps.fileMode)
        guard fd >= 0 else { throw FileOpError("open lock file", path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            var buf = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buf, 31, 0)
            close(fd)
            if e == EWOULDBLOCK {
                let pid = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
                throw Busy(database: database.path, holder: pid.isEmpty || !pid.allSatisfy(\.isNumber) ? nil : pid)
            }
            throw FileOpError("lock", path, errno: e)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { flock(fd, LOCK_UN); close(fd) }
}
