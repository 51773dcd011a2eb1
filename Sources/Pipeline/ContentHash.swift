import Crypto
import Foundation

enum ContentHash {
    /// SHA-256 of a file's bytes, hex. Streams so large images do not sit in memory twice.
    static func sha256(of url: URL) throws -> String {
        guard let h = FileHandle(forReadingAtPath: url.path) else {
            throw FileOpError("open", url.path, errno: errno)
        }
        defer { try? h.close() }
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
