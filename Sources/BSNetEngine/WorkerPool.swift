#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The engine's one thread pool. OpenBLAS runs single-threaded (see `BSNet.run`) and every parallel
/// layer splits its own work (blocks of output rows or Winograd tiles) over these workers, each
/// gathering its own slice and calling a single-threaded SGEMM on it. Two pools spinning against
/// each other (ours and OpenBLAS's) made two threads slower than one (docs/performance.md).
///
/// `size` includes the calling thread: `size - 1` threads are started, sleeping on a condition
/// variable between parallel loops. One loop at a time (the network is not re-entrant either).
/// @unchecked Sendable: `threads` is written only in init and deinit; everything the threads share is in `state`.
public final class WorkerPool: @unchecked Sendable {
    public let size: Int
    private let state: PoolState
    private var threads: [Thread] = []

    /// A pool of one: everything runs on the calling thread.
    public static let serial = WorkerPool(size: 1)

    public init(size: Int) {
        self.size = max(1, size)
        state = PoolState()
        for index in 1..<self.size {
            let state = self.state
            let thread = Thread { state.workerLoop(index: index) }
            thread.name = "brixia-engine-\(index)"
            thread.start()
            threads.append(thread)
        }
    }

    deinit { state.stop() }

    /// Runs `body(worker, item)` for every item in 0..<count; items are claimed dynamically (so a
    /// worker slowed by another process takes fewer), `worker` in 0..<size indexes per-worker scratch.
    public func parallelFor(_ count: Int, _ body: (_ worker: Int, _ item: Int) -> Void) {
        if count <= 0 { return }
        if size == 1 || count == 1 {
            for i in 0..<count { body(0, i) }
            return
        }
        let counter = ItemCounter(count)
        withoutActuallyEscaping(body) { body in
            state.runOnAll(workers: min(size, count)) { worker in
                while let item = counter.next() { body(worker, item) }
            }
        }
    }
}

/// Shared between the pool and its threads (the threads must not keep the pool itself alive).
/// @unchecked Sendable: every var is read and written only with `mutex` held (the condition variables wait on it).
private final class PoolState: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var generation = 0
    private var participants = 0
    private var running = 0
    private var stopping = false
    private var body: ((Int) -> Void)?

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
    }

    deinit {
        pthread_cond_destroy(wake); pthread_cond_destroy(done); pthread_mutex_destroy(mutex)
        wake.deallocate(); done.deallocate(); mutex.deallocate()
    }

    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body(0)` on the caller and `body(i)` on workers 1..<workers, returns when all are done.
    func runOnAll(workers: Int, _ body: @escaping (Int) -> Void) {
        pthread_mutex_lock(mutex)
        self.body = body
        participants = workers
        running = workers - 1
        generation &+= 1
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        body(0)
        pthread_mutex_lock(mutex)
        while running > 0 { pthread_cond_wait(done, mutex) }
        self.body = nil
        pthread_mutex_unlock(mutex)
    }

    func workerLoop(index: Int) {
        var seen = 0
        pthread_mutex_lock(mutex)
        while true {
            while generation == seen && !stopping { pthread_cond_wait(wake, mutex) }
            if stopping { break }
            seen = generation
            guard index < participants, let body else { continue }
            pthread_mutex_unlock(mutex)
            body(index)
            pthread_mutex_lock(mutex)
            running -= 1
            if running == 0 { pthread_cond_signal(done) }
        }
        pthread_mutex_unlock(mutex)
    }
}

/// Hands out 0, 1, 2, ... once each, across threads.
/// @unchecked Sendable: `nextItem` is read and written only with `mutex` held.
private final class ItemCounter: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var nextItem = 0
    private let count: Int
    init(_ count: Int) { self.count = count; pthread_mutex_init(mutex, nil) }
    deinit { pthread_mutex_destroy(mutex); mutex.deallocate() }
    func next() -> Int? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard nextItem < count else { return nil }
        nextItem += 1
        return nextItem - 1
    }
}
