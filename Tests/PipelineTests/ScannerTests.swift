import Foundation
import Logging
import Testing
@testable import Pipeline

@Suite struct ScannerTests {
    @Test func growingFileIsNotTakenUntilStable() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-scan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("a.dcm")
        try Data(repeating: 1, count: 100).write(to: f)
        let scanner = InboxScanner(inbox: dir, stabilityPeriod: 5)
        let t0 = Date()
        #expect(scanner.stableFiles([f], now: t0).stable.isEmpty)
        // It grows: the clock restarts from this observation.
        let h = try FileHandle(forWritingTo: f); try h.seekToEnd(); try h.write(contentsOf: Data(repeating: 2, count: 50)); try h.close()
        let t1 = Date()
        #expect(scanner.stableFiles([f], now: t1).stable.isEmpty)
        #expect(scanner.stableFiles([f], now: t1.addingTimeInterval(4.5)).stable.isEmpty)
        #expect(scanner.stableFiles([f], now: t1.addingTimeInterval(5.5)).stable == [f])
    }

    @Test func skipsTemporaryNamesAndWalksNestedFolders() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-scan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        for p in ["s1/a.dcm", "s1/deep/b.dcm", ".hidden/c.dcm", "d.part", "e.tmp", ".f", "g"] {
            let u = dir.appendingPathComponent(p)
            try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data([1]).write(to: u)
        }
        let names = InboxScanner(inbox: dir, stabilityPeriod: 0).listFiles().map { String($0.path.dropFirst(dir.path.count + 1)) }
        #expect(names == ["g", "s1/a.dcm", "s1/deep/b.dcm"])
    }

    /// --once with a file still being written: it waits, and the completed file is processed
    /// (not quarantined as corrupt).
    @Test(.timeLimit(.minutes(1)))
    func fileStillBeingWrittenWhenFirstSeen() async throws {
        let ws = try Workspace()
        // No timing assumption: with no stability period the partial file is read at once, and what keeps it
        // from the quarantine is the rule under test (unreadable but still open for writing: wait), however
        // the writer's pauses fall on a loaded machine.
        ws.config.stabilityPeriod = 0
        let data = FakeInstance.make(study: "G.1", sop: "G.1.1").data
        let url = try ws.drop(data.prefix(20), as: "slow.dcm")
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        // A real thread, not a Task: other suites may keep the cooperative pool busy.
        let finished = DispatchSemaphore(value: 0)
        let step = max(1, data.count / 6)
        Thread.detachNewThread {
            for chunk in stride(from: 20, to: data.count, by: step) {
                Thread.sleep(forTimeInterval: 0.1)
                handle.write(data[chunk..<min(chunk + step, data.count)])
            }
            try? handle.close()
            finished.signal()
        }
        let s = try await ws.runner().runOnce()
        finished.wait()
        #expect(s.filesQuarantined == 0)
        #expect(s.studiesProcessed == 1)
        #expect(s.isClean)
    }

    @Test(.timeLimit(.minutes(1)))
    func inotifySeesFilesInFoldersCreatedLater() async throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-ino-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = try InotifyWatcher(directory: dir)
        let stream = w.events()
        let got = try await withThrowingTaskGroup(of: Set<String>?.self) { group in
            group.addTask {
                var seen = Set<String>()
                for await u in stream {
                    seen.insert(String(u.path.dropFirst(dir.path.count + 1)))
                    if seen.contains("study1/sub/x.dcm") && seen.contains("top.dcm") { return seen }
                    // Files in a brand-new folder may predate its watch: the folder event covers them.
                    if seen.contains("study1") && FileManager.default.fileExists(atPath: dir.path + "/study1/sub/x.dcm")
                        && seen.contains("top.dcm") && seen.contains("study1/sub") { return seen }
                }
                return seen
            }
            group.addTask {
                try await Task.sleep(nanoseconds: 100_000_000)
                try FileManager.default.createDirectory(at: dir.appendingPathComponent("study1/sub"), withIntermediateDirectories: true)
                try await Task.sleep(nanoseconds: 300_000_000)
                try Data([1, 2]).write(to: dir.appendingPathComponent("study1/sub/x.dcm"))
                try Data([1]).write(to: dir.appendingPathComponent(".ignored.tmp"))
                try Data([3]).write(to: dir.appendingPathComponent("top.dcm"))
                try await Task.sleep(nanoseconds: 10_000_000_000)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        w.stop()
        let seen = try #require(got)
        #expect(seen.contains("top.dcm"))
        #expect(seen.contains("study1/sub/x.dcm") || seen.contains("study1/sub"))
        #expect(!seen.contains(".ignored.tmp"))
    }
}
