import Foundation
import Testing
@testable import Store

@Suite struct ConcurrencyTests {
    /// WAL: a read transaction held open on one connection does not block a writer on another
    /// connection, and the reader keeps its snapshot.
    @Test func longReaderDoesNotBlockWriter() throws {
        let temp = try TempStore()
        try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        // A second, independent connection pool on the same file, with a short busy timeout so that
        // any blocking would surface as an error rather than a slow pass.
        let writer = try BrixiaStore(path: temp.path, configuration: StoreConfiguration(busyTimeout: 0.2))

        let readerStarted = DispatchSemaphore(value: 0)
        let writerDone = DispatchSemaphore(value: 0)
        let readerFinished = DispatchSemaphore(value: 0)
        let counts = LockedBox<[Int]>([])
        let writerSeenInTime = LockedBox<Bool>(false)
        let reader = Thread {
            defer { readerFinished.signal() }
            try? temp.store.pool.read { db in
                counts.mutate { $0.append(try! Int.fetchOne(db, sql: "SELECT COUNT(*) FROM instances")!) }
                readerStarted.signal()
                // The writer finishes while this read transaction is open (else it would have failed on its
                // 0.2 s busy timeout, or still be waiting when this gives up).
                let inTime = writerDone.wait(timeout: .now() + 10) == .success
                writerSeenInTime.mutate { $0 = inTime }
                counts.mutate { $0.append(try! Int.fetchOne(db, sql: "SELECT COUNT(*) FROM instances")!) }
            }
            readerStarted.signal()  // in case the read failed before signalling
        }
        reader.start()
        #expect(readerStarted.wait(timeout: .now() + 10) == .success)

        for i in 2...5 {
            try writer.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.\(i)"), now: Fixture.t0)
        }
        writerDone.signal()
        #expect(readerFinished.wait(timeout: .now() + 30) == .success)

        #expect(writerSeenInTime.value)
        #expect(counts.value == [1, 1], "the open read transaction keeps its snapshot")
        #expect(try temp.store.assembly(studyInstanceUID: "1.1").instances.count == 5)
    }
}

final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T { lock.lock(); defer { lock.unlock() }; return stored }
    func mutate(_ body: (inout T) throws -> Void) rethrows { lock.lock(); defer { lock.unlock() }; try body(&stored) }
}
