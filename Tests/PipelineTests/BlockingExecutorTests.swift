import BlockingExecutor
import Foundation
import Synchronization
import Testing

/// A value the jobs share (a Mutex cannot be captured by the escaping closures itself).
final class Shared<T: Sendable>: Sendable {
    let value: Mutex<T>
    init(_ v: T) { value = Mutex(v) }
    func get() -> T { value.withLock { $0 } }
    func update(_ f: (inout T) -> Void) { value.withLock { f(&$0) } }
}

/// The one executor for blocking work (the engine's steps, DCMTK calls, the console's SQLite reads).
@Suite struct BlockingExecutorTests {
    /// `threadCount` jobs can block at the same time: each waits until all of them have started, which only
    /// happens if the pool runs them at once (so a long scoring step cannot hold up the console's reads).
    @Test(.timeLimit(.minutes(1)))
    func asManyJobsAsThreadsBlockAtOnce() async throws {
        let n = BlockingExecutor.threadCount
        #expect(n >= 4)
        let arrived = Shared(0)
        let all = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<n {
                group.addTask {
                    try await BlockingExecutor.run { () -> Bool in
                        arrived.update { $0 += 1 }
                        let end = Date().addingTimeInterval(20)   // an upper bound only, never reached when all run
                        while arrived.get() < n && Date() < end { usleep(1_000) }
                        return arrived.get() == n
                    }
                }
            }
            var ok = true
            for try await r in group { ok = ok && r }
            return ok
        }
        #expect(all)
    }

    /// Work that was submitted runs to its end and its result arrives even when the awaiting task is cancelled
    /// (the engine's steps are crash-safe, not cancellable); errors come back as thrown.
    @Test func submittedWorkFinishesAndErrorsPropagate() async throws {
        let finished = Shared(false)
        let task = Task {
            try await BlockingExecutor.run { () -> Int in
                usleep(100_000)
                finished.update { $0 = true }
                return 42
            }
        }
        task.cancel()
        #expect(try await task.value == 42)
        #expect(finished.get())
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await BlockingExecutor.run { () throws -> Int in throw Boom() } }
    }
}
