#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation

enum ContentHash {
    /// SHA-256 of a file's bytes, hex. Streams so large images do not sit in memory twice.
    /// Opens without following a symbolic link and without blocking (a FIFO planted in the inbox once
    /// blocked this read forever); anything but a regular file is refused before a byte is read.
    static func sha256(of url: URL) throws -> String {
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileOpError("open", url.path, errno: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw FileOpError("read (not a regular file)", url.path, errno: EINVAL)
        }
        let h = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var hasher = SHA256()
        while true {
            let chunk = try h.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func sha256(_ s: String) -> String {
        SHA256.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
