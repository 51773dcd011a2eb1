import Foundation

/// Finds candidate files in the inbox (recursively: storescp writes per-study folders) and decides
/// when a file is complete: its size and mtime must be unchanged for `stabilityPeriod`.
public final class InboxScanner: @unchecked Sendable {
    struct Observation: Equatable { var size: Int64; var mtime: Date; var firstSeenStable: Date }

    public let inbox: URL
    public let stabilityPeriod: TimeInterval
    private var observed: [String: Observation] = [:]
    private let lock = NSLock()

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
    public func listFiles() -> [URL] {
        var out: [URL] = []
        walk(inbox, into: &out)
        return out.sorted { $0.path < $1.path }
    }

    private func walk(_ dir: URL, into out: inout [URL]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where !InboxScanner.isIgnoredName(name) {
            let url = dir.appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else { continue }
            if isDir.boolValue { walk(url, into: &out) } else { out.append(url) }
        }
    }

    /// Records the current size/mtime of `files` and returns those that are stable now.
    /// A file is stable when its mtime is at least `stabilityPeriod` old, or the same size/mtime
    /// has been observed for that long (covers clocks that disagree).
    public func stableFiles(_ files: [URL], now: Date = Date()) -> (stable: [URL], waiting: [URL]) {
        lock.lock(); defer { lock.unlock() }
        var stable: [URL] = [], waiting: [URL] = []
        var seen = Set<String>()
        for url in files {
            seen.insert(url.path)
            guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
                  let size = (attrs[.size] as? NSNumber)?.int64Value,
                  let mtime = attrs[.modificationDate] as? Date else { continue }
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

    /// Forgets a path (after the file was moved away).
    public func forget(_ url: URL) {
        lock.lock(); observed[url.path] = nil; lock.unlock()
    }

    public func forgetMissing(except present: Set<String>) {
        lock.lock(); observed = observed.filter { present.contains($0.key) }; lock.unlock()
    }
}
