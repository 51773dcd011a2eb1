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

/// The short study reference in info-level logs (`study=884b29800327`): the first 12 hex digits of the
/// SHA-256 of the StudyInstanceUID, so logs name a study without carrying its UID. `show` accepts it.
public enum StudyReference {
    public static let length = 12
    public static func of(_ studyInstanceUID: String) -> String {
        String(ContentHash.sha256(studyInstanceUID).prefix(length))
    }
    /// The whole hash the reference is a prefix of.
    public static func full(_ studyInstanceUID: String) -> String { ContentHash.sha256(studyInstanceUID) }
    /// True for text that could be a reference (or a longer prefix of the hash), not a UID.
    public static func looksLikeReference(_ s: String) -> Bool {
        (6...64).contains(s.count) && s.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}

