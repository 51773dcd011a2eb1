import Foundation
import GRDB
import Store
import Testing
@testable import DicomNetwork

/// Queue semantics without a PACS (the delivery scenarios against Orthanc are in OrthancTests).
@Suite struct OutgoingQueueTests {
    let dest = try! DicomNode(parsing: "PACS@127.0.0.1:1")

    static func queue(_ path: String, policy: OutgoingRetryPolicy = OutgoingRetryPolicy()) throws -> OutgoingQueue {
        OutgoingQueue(store: try BrixiaStore(path: path), policy: policy)
    }

    @Test func backoffDoublesUpToMax() {
        let p = OutgoingRetryPolicy(baseDelay: 10, maxDelay: 60, giveUpAfter: 3600)
        #expect([1, 2, 3, 4, 5].map { p.delay(afterAttempts: $0) } == [10, 20, 40, 60, 60])
    }

    @Test func enqueueIsIdempotentAndRefusesNewContentUnderSameUID() throws {
        let dir = try NetTest.tempDir("q")
        let q = try Self.queue(dir + "/brixia.sqlite")
        let (study, sop) = try NetTest.makeImage(at: dir + "/r1.dcm")
        let a = try q.enqueue(path: dir + "/r1.dcm", to: dest)
        let b = try q.enqueue(path: dir + "/r1.dcm", to: dest)
        #expect(a.id == b.id && a.sopInstanceUID == sop && a.state == .pending)
        // A "corrected" report reusing the SOP Instance UID (different pixels) is refused, for any destination.
        try NetTest.makeImage(at: dir + "/r2.dcm", studyUID: study, sopUID: sop, seed: 99)
        #expect(throws: StoreError.sopInstanceReused(sopInstanceUID: sop, path: dir + "/r2.dcm")) {
            try q.enqueue(path: dir + "/r2.dcm", to: dest)
        }
        #expect(throws: StoreError.self) { try q.enqueue(path: dir + "/r2.dcm", to: try DicomNode(parsing: "OTHER@h:2")) }
        // A new UID is fine.
        try NetTest.makeImage(at: dir + "/r3.dcm", studyUID: study, seed: 99)
        #expect(try q.enqueue(path: dir + "/r3.dcm", to: dest).state == .pending)
        #expect(try q.store.outgoingItems().count == 2)
        #expect(throws: DicomNetworkError.self) { try q.enqueue(path: dir + "/missing.dcm", to: dest) }
    }

    @Test func failuresBackOffThenGiveUpButStayListed() throws {
        let dir = try NetTest.tempDir("q2")
        let q = try Self.queue(dir + "/db.sqlite", policy: OutgoingRetryPolicy(baseDelay: 10, maxDelay: 40, giveUpAfter: 100))
        try NetTest.makeImage(at: dir + "/a.dcm")
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let item = try q.enqueue(path: dir + "/a.dcm", to: dest, now: t0)
        #expect(try q.due(now: t0).map(\.id) == [item.id])
        try q.markFailed(id: item.id, error: "connection refused", permanent: false, now: t0)
        #expect(try q.due(now: t0.addingTimeInterval(9)).isEmpty)
        #expect(try q.due(now: t0.addingTimeInterval(10)).count == 1)
        try q.markFailed(id: item.id, error: "connection refused", permanent: false, now: t0.addingTimeInterval(10))
        var s = try #require(try q.store.outgoingStatus().first)
        #expect(s.pending == 1 && s.failed == 0 && s.lastError == "connection refused")
        #expect(s.nextAttemptAt == t0.addingTimeInterval(30))
        try q.markFailed(id: item.id, error: "still down", permanent: false, now: t0.addingTimeInterval(100))
        s = try #require(try q.store.outgoingStatus().first)
        #expect(s.pending == 0 && s.failed == 1 && s.lastError == "still down" && s.nextAttemptAt == nil)
        #expect(try q.store.outgoingItems(state: .failed).map(\.attempts) == [3])
        #expect(try q.store.retryFailedOutgoing(actor: "test", now: t0.addingTimeInterval(200)) == 1)
        #expect(try q.due(now: t0.addingTimeInterval(200)).count == 1)
    }

    @Test func onlyAPendingItemCanBeMarkedSentOrFailed() throws {
        let dir = try NetTest.tempDir("q4")
        let path = dir + "/db.sqlite"
        let q = try Self.queue(path)
        try NetTest.makeImage(at: dir + "/a.dcm")
        try NetTest.makeImage(at: dir + "/b.dcm")
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let a = try q.enqueue(path: dir + "/a.dcm", to: dest, now: t0), b = try q.enqueue(path: dir + "/b.dcm", to: dest, now: t0)
        try q.markSent(id: a.id, now: t0)
        // A late outcome for an item already sent changes nothing: refused, and the row keeps its state.
        #expect(throws: StoreError.outgoingTransition(id: a.id, from: "sent", to: "sent")) { try q.markSent(id: a.id, now: t0) }
        #expect(throws: StoreError.outgoingTransition(id: a.id, from: "sent", to: "failed")) {
            try q.markFailed(id: a.id, error: "late", permanent: true, now: t0)
        }
        try q.markFailed(id: b.id, error: "refused", permanent: true, now: t0)
        #expect(throws: StoreError.outgoingTransition(id: b.id, from: "failed", to: "sent")) { try q.markSent(id: b.id, now: t0) }
        #expect(throws: StoreError.outgoingTransition(id: 999, from: "absent", to: "failed")) {
            try q.markFailed(id: 999, error: "x", permanent: false, now: t0)
        }
        let items = try q.store.outgoingItems()
        #expect(items.map(\.state) == [.sent, .failed] && items.map(\.attempts) == [1, 1] && items[0].lastError == nil)
        // The operator's retry makes it pending again, and then it can be sent.
        #expect(try q.store.retryFailedOutgoing(actor: "test", now: t0) == 1)
        try q.markSent(id: b.id, now: t0)
        // A state this program does not know is an error when read, not "failed".
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "UPDATE outgoing_queue SET state = 'archived' WHERE id = ?", arguments: [a.id])
        }
        #expect(throws: StoreError.corruptRow(table: "outgoing_queue", id: a.id, reason: "unknown state 'archived'")) {
            try q.store.outgoingItems()
        }
    }

    @Test func everyTransitionSaysWhyAndIsAudited() throws {
        let dir = try NetTest.tempDir("q5")
        let q = try Self.queue(dir + "/db.sqlite", policy: OutgoingRetryPolicy(baseDelay: 10, maxDelay: 40, giveUpAfter: 100))
        for n in ["a", "b", "c"] { try NetTest.makeImage(at: dir + "/\(n).dcm") }
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let a = try q.enqueue(path: dir + "/a.dcm", to: dest, now: t0)
        let b = try q.enqueue(path: dir + "/b.dcm", to: dest, now: t0)
        let c = try q.enqueue(path: dir + "/c.dcm", to: dest, now: t0)
        try q.markFailed(id: a.id, error: "connection refused", permanent: false, now: t0)
        try q.markFailed(id: b.id, error: "DIMSE 0xA700", permanent: true, now: t0)
        try q.markFailed(id: c.id, error: "down", permanent: false, now: t0.addingTimeInterval(100))
        let items = Dictionary(uniqueKeysWithValues: try q.store.outgoingItems().map { ($0.id, $0) })
        #expect(items[a.id]?.state == .pending && items[a.id]?.failureKind == .transient)
        #expect(items[b.id]?.state == .failed && items[b.id]?.failureKind == .refused)
        #expect(items[c.id]?.state == .failed && items[c.id]?.failureKind == .expired)
        // The console's resend clears the kind and records who asked.
        #expect(try q.store.requeueOutgoing(sopInstanceUIDs: [b.sopInstanceUID], actor: "console:ops", now: t0) == 1)
        #expect(try q.store.outgoingItems(state: .pending).first { $0.id == b.id }?.failureKind == nil)
        try q.markSent(id: b.id, now: t0)
        let history = try q.store.outgoingHistory(id: b.id)
        #expect(history.map { "\($0.fromState ?? "-")>\($0.toState ?? "-")" } == ["->pending", "pending>failed", "failed>pending", "pending>sent"])
        #expect(history[1].message == "refused: DIMSE 0xA700" && history[2].actor == "console:ops")
        // A refused change leaves no audit row.
        #expect(throws: StoreError.self) { try q.markSent(id: b.id, now: t0) }
        #expect(try q.store.outgoingHistory(id: b.id).count == 4)
    }

    @Test func queueTableIsTheStoresOwn() throws {
        // The queue is created by the Store's migrations: one database, one migration list, one pool.
        let dir = try NetTest.tempDir("q3")
        let store = try BrixiaStore(path: dir + "/brixia.sqlite")
        #expect(try store.appliedMigrations() == StoreMigrations.all.map(\.name))
        #expect(try store.appliedMigrations().contains("0009_outgoing_queue"))
        let q = OutgoingQueue(store: store)
        try NetTest.makeImage(at: dir + "/a.dcm")
        try q.enqueue(path: dir + "/a.dcm", to: dest)
        #expect(try BrixiaStore(path: dir + "/brixia.sqlite").outgoingItems().count == 1)
    }
}
