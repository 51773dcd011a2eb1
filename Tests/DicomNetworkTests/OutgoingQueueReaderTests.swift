import Foundation
import GRDB
import Testing
@testable import DicomNetwork

/// The read-only view used by `brixia status` / `show`, and the sender's destination filter used by `serve`.
@Suite struct OutgoingQueueReaderTests {
    @Test func readerNeverCreatesTheQueueAndNamesAMissingDatabase() throws {
        let dir = try NetTest.tempDir("reader")
        let path = dir + "/store.sqlite"
        // A database without the queue table (a deployment without destinations) reads as "nothing queued".
        try DatabaseQueue(path: path).write { try $0.execute(sql: "CREATE TABLE other (x INTEGER)") }
        #expect(try OutgoingQueueReader.status(databasePath: path).isEmpty)
        #expect(try OutgoingQueueReader.items(databasePath: path, sopInstanceUIDs: ["1.2.3"]).isEmpty)
        #expect(try DatabaseQueue(path: path).read { try $0.tableExists("outgoing_queue") } == false)
        #expect(throws: DicomNetworkError.queue("no database at \(dir)/missing.sqlite")) {
            try OutgoingQueueReader.status(databasePath: dir + "/missing.sqlite")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/missing.sqlite"))
    }

    @Test func readerShowsPerDestinationStateAndTheRowsOfGivenReports() throws {
        let dir = try NetTest.tempDir("reader2")
        let path = dir + "/brixia.sqlite"
        let q = try OutgoingQueue(databasePath: path, policy: OutgoingRetryPolicy(baseDelay: 10, maxDelay: 20, giveUpAfter: 100))
        let a = try DicomNode(parsing: "A@127.0.0.1:1"), b = try DicomNode(parsing: "B@127.0.0.1:2")
        let (_, sop1) = try NetTest.makeImage(at: dir + "/1.dcm")
        let (_, sop2) = try NetTest.makeImage(at: dir + "/2.dcm")
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let i1a = try q.enqueue(path: dir + "/1.dcm", to: a, now: t0)
        let i1b = try q.enqueue(path: dir + "/1.dcm", to: b, now: t0)
        _ = try q.enqueue(path: dir + "/2.dcm", to: b, now: t0)
        try q.markSent(id: i1a.id, now: t0)
        try q.markFailed(id: i1b.id, error: "cannot connect to B", permanent: false, now: t0)

        let s = try OutgoingQueueReader.status(databasePath: path)
        #expect(s.map(\.destination) == ["A@127.0.0.1:1", "B@127.0.0.1:2"])
        #expect(s[0].sent == 1 && s[0].pending == 0 && s[0].nextAttemptAt == nil && s[0].lastError == nil)
        #expect(s[1].sent == 0 && s[1].pending == 2 && s[1].lastError == "cannot connect to B")
        #expect(s[1].nextAttemptAt == t0)   // the never-tried item is due at once
        let rows = try OutgoingQueueReader.items(databasePath: path, sopInstanceUIDs: [sop1])
        #expect(rows.map(\.destination) == ["A@127.0.0.1:1", "B@127.0.0.1:2"] && rows.allSatisfy { $0.sopInstanceUID == sop1 })
        #expect(rows.map(\.state) == [.sent, .pending] && rows[1].nextAttemptAt == t0.addingTimeInterval(10))
        #expect(try OutgoingQueueReader.items(databasePath: path, sopInstanceUIDs: [sop2]).count == 1)
        #expect(try OutgoingQueueReader.items(databasePath: path, sopInstanceUIDs: []).isEmpty)
    }

    @Test func dueAndSenderServeOnlyTheConfiguredDestinations() throws {
        let dir = try NetTest.tempDir("dests")
        let q = try OutgoingQueue(databasePath: dir + "/brixia.sqlite")
        // Nothing listens on these ports: a round fails fast, and only for the configured destination.
        let kept = try DicomNode(aeTitle: "KEPT", host: "127.0.0.1", port: NetTest.freePort())
        let dropped = try DicomNode(aeTitle: "DROPPED", host: "127.0.0.1", port: NetTest.freePort())
        try NetTest.makeImage(at: dir + "/r.dcm")
        try q.enqueue(path: dir + "/r.dcm", to: kept)
        try q.enqueue(path: dir + "/r.dcm", to: dropped)
        #expect(try q.due(destinations: [kept.description]).map(\.destination) == [kept.description])
        #expect(try q.due(destinations: []).isEmpty)
        #expect(try q.due().count == 2)
        let sender = OutgoingSender(queue: q, scu: try DicomSCU(timeoutSeconds: 5), destinations: [kept.description])
        #expect(try sender.runOnce() == 0)
        let items = try q.items()
        #expect(items.first { $0.destination == kept.description }?.attempts == 1)
        #expect(items.first { $0.destination == dropped.description }?.attempts == 0, "an unconfigured destination is never tried")
        #expect(items.allSatisfy { $0.state == .pending })
    }
}
