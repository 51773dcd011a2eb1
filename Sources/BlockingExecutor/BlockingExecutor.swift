import Foundation
import NIOPosix

/// The process's one executor for blocking work: the scoring engine (through `PipelineRunner`), DCMTK network
/// calls, the console's SQLite reads and bcrypt, the services' store writes. Async code hands such calls here and
/// awaits them, so they never occupy Swift's cooperative thread pool (one thread per core: a blocked one stalls
/// every task behind it). It is swift-nio's `NIOThreadPool`, the executor the server ecosystem (Hummingbird, NIO's
/// own file I/O) uses for exactly this.
///
/// Work already submitted always runs to the end: a cancelled task still gets its result, because the engine's and
/// the store's steps must not be cut in half (they are crash-safe, not cancellable).
public enum BlockingExecutor {
    /// Enough threads that a slow PACS association, a long scoring run and console requests do not wait for each
    /// other; the CPU-heavy part (the network) bounds its own parallelism with its worker threads.
    public static let threadCount = max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)

    static let pool: NIOThreadPool = {
        let p = NIOThreadPool(numberOfThreads: threadCount)
        p.start()
        return p
    }()

    public struct Stopped: Error, CustomStringConvertible {
        public var description: String { "the blocking-work executor is shut down" }
    }

    /// Runs `body` on the executor and returns its result (or error).
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in
            pool.submit { state in
                guard case .active = state else { cont.resume(throwing: Stopped()); return }
                cont.resume(with: Result { try body() })
            }
        }
    }
}
