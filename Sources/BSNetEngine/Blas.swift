import COpenBLAS

/// Thin wrappers over OpenBLAS: its thread setting and the benchmark's reference SGEMM. The engine's own
/// matrix work goes through `Kernels.sgemm` (its own micro-kernels, independent of OpenBLAS's core type).
public enum Blas {
    /// Sets the OpenBLAS thread count (process-wide: OpenBLAS has one global pool).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
    public static var coreName: String { String(cString: openblas_get_corename()) }
    public static var config: String { String(cString: openblas_get_config()) }

    /// C (m x n, row stride ldc) = alpha * A (m x k, lda) * B (k x n, ldb) + beta * C, all row-major.
    @inline(__always)
    static func sgemm(m: Int, n: Int, k: Int,
                      a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int,
                      alpha: Float = 1, beta: Float = 0, transB: Bool = false) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Blas {
    /// C = A * B for row-major arrays (used by the benchmark's reference SGEMM).
    public static func multiply(m: Int, n: Int, k: Int, a: [Float], b: [Float], c: inout [Float]) {
        precondition(a.count == m * k && b.count == k * n && c.count == m * n)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                }
            }
        }
    }
}
