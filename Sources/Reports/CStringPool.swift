#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps C copies of Swift strings alive while a C struct that points at them is in use.
final class CStringPool {
    private var pointers: [UnsafeMutablePointer<CChar>] = []

    func c(_ s: String?) -> UnsafePointer<CChar>? {
        guard let s else { return nil }
        guard let p = strdup(s) else { return nil }
        pointers.append(p)
        return UnsafePointer(p)
    }

    deinit { pointers.forEach { free($0) } }
}
