import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Lowers the CPU priority of this whole process, so an explanation run beside the scoring daemon never
/// delays scoring. On Linux the nice value is per thread, so every existing thread (including the
/// OpenBLAS pool) is reniced; threads created later inherit the creating thread's value.
public enum ProcessPriority {
    /// Raises the nice value of every thread to at least `nice` (never lowers it). Returns threads changed.
    @discardableResult
    public static func lower(to nice: Int32) -> Int {
        guard nice > 0 else { return 0 }
        #if os(Linux)
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var changed = 0
        for t in tasks {
            guard let tid = id_t(t) else { continue }
            errno = 0
            let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid)
            if errno == 0 && current >= nice { continue }
            if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, nice) == 0 { changed += 1 }
        }
        return changed
        #else
        return setpriority(PRIO_PROCESS, 0, nice) == 0 ? 1 : 0
        #endif
    }

    /// The current nice value of the calling thread.
    public static var current: Int32 {
        #if os(Linux)
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        #else
        return getpriority(PRIO_PROCESS, 0)
        #endif
    }
}
