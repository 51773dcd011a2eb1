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
        multiplyArrays(m: m, n: n, k: k, a: a, b: b, c: &c) {
            sgemm(m: m, n: n, k: k, a: $0, lda: k, b: $1, ldb: n, c: $2, ldc: n)
        }
    }
}
