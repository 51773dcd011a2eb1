#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Recursive inotify watch of the inbox. It only says "something changed at this path"; the
/// scanner decides what to do (so a missed event costs latency, never a file: the periodic rescan
/// finds it). Sub-folders created later are watched as soon as they appear.
/// @unchecked Sendable: `fd`, `root` and the pipe are fixed after init (stop() only writes to the pipe);
/// `watches` is read and written only under `lock`.
public final class InotifyWatcher: @unchecked Sendable {
    private let fd: Int32
    private var wakePipe: [Int32] = [-1, -1]
    private var watches: [Int32: String] = [:]
    private let lock = NSLock()
    private let root: String
    private static let fileMask = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO)
    private static let dirMask = fileMask | UInt32(IN_CREATE) | UInt32(IN_DELETE_SELF) | UInt32(IN_ONLYDIR)

    public init(directory: URL) throws {
        root = directory.path
        fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { throw FileOpError("inotify_init1", directory.path, errno: errno) }
        guard pipe(&wakePipe) == 0 else { let e = errno; close(fd); throw FileOpError("pipe", directory.path, errno: e) }
        try addTree(root)
    }

    deinit { close(fd); close(wakePipe[0]); close(wakePipe[1]) }

    public func stop() { var b: UInt8 = 1; _ = write(wakePipe[1], &b, 1) }

    private func addWatch(_ path: String) throws {
        let wd = inotify_add_watch(fd, path, InotifyWatcher.dirMask)
        guard wd >= 0 else { throw FileOpError("inotify_add_watch", path, errno: errno) }
        lock.lock(); watches[wd] = path; lock.unlock()
    }

    /// Watches `path` and every folder below it (ignored dot-folders excluded).
    private func addTree(_ path: String) throws {
        try addWatch(path)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        for name in names where !InboxScanner.isIgnoredName(name) {
            let sub = path + "/" + name
            // lstat: a symbolic link to a folder is never watched (nor walked: see InboxScanner).
            if case .directory = FileKind.of(sub) { try? addTree(sub) }
        }
    }

    /// Paths that changed. A new folder yields its own path (the consumer rescans it: files may
    /// have landed in it before the watch was added).
    public func events() -> AsyncStream<URL> {
        AsyncStream(bufferingPolicy: .unbounded) { continuation in
            let thread = Thread { [self] in
                let size = 64 * 1024
                let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<inotify_event>.alignment)
                defer { buf.deallocate(); continuation.finish() }
                var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: wakePipe[0], events: Int16(POLLIN), revents: 0)]
                while true {
                    if poll(&fds, 2, -1) < 0 { if errno == EINTR { continue } else { return } }
                    if fds[1].revents != 0 { return }
                    let n = read(fd, buf, size)
                    if n <= 0 { if errno == EINTR || errno == EAGAIN { continue } else { return } }
                    var off = 0
                    while off < n {
                        let ev = buf.load(fromByteOffset: off, as: inotify_event.self)
                        let name = ev.len > 0
                            ? String(cString: (buf + off + MemoryLayout<inotify_event>.size).assumingMemoryBound(to: CChar.self))
                            : ""
                        off += MemoryLayout<inotify_event>.size + Int(ev.len)
                        lock.lock(); let dir = watches[ev.wd]; lock.unlock()
                        guard let dir else { continue }
                        if ev.mask & UInt32(IN_IGNORED) != 0 || ev.mask & UInt32(IN_DELETE_SELF) != 0 {
                            lock.lock(); watches[ev.wd] = nil; lock.unlock()
                            continue
                        }
                        if name.isEmpty || InboxScanner.isIgnoredName(name) { continue }
                        let path = dir + "/" + name
                        if ev.mask & UInt32(IN_ISDIR) != 0 {
                            if ev.mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 {
                                try? addTree(path)
                                continuation.yield(URL(fileURLWithPath: path))
                            }
                        } else if ev.mask & InotifyWatcher.fileMask != 0 {
                            continuation.yield(URL(fileURLWithPath: path))
                        }
                    }
                }
            }
            continuation.onTermination = { [weak self] _ in self?.stop() }
            thread.start()
        }
    }
}
