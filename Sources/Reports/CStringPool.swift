#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps C copies of Swift strings alive while a C struct that points at them is in use.
final class CStringPool {
    private var pointers: [UnsafeMutablePointer<CChar>] = []
    private var buffers: [UnsafeMutableRawPointer] = []

    func c(_ s: String?) -> UnsafePointer<CChar>? {
        guard let s else { return nil }
        guard let p = strdup(s) else { return nil }
        pointers.append(p)
        return UnsafePointer(p)
    }

    /// A C array copy of `values` (trivial C structs), alive as long as the pool; nil when empty.
    func array<T>(_ values: [T]) -> UnsafePointer<T>? {
        guard !values.isEmpty else { return nil }
        let p = UnsafeMutablePointer<T>.allocate(capacity: values.count)
        p.initialize(from: values, count: values.count)
        buffers.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    deinit {
        pointers.forEach { free($0) }
        buffers.forEach { $0.deallocate() }
    }
}
