import CKernels

/// The engine's own SGEMM (Sources/CKernels): AVX-512, AVX2+FMA or portable C, chosen from the CPU's
/// own features, so the engine's speed does not depend on how OpenBLAS was built or configured
/// (OPENBLAS_CORETYPE). Every conv kernel's matrix work goes through `sgemm`; it is single-threaded,
/// the engine's `WorkerPool` splits the work.
public enum Kernels {
    /// A kernel set, in increasing order of capability.
    public enum ISA: Int, CaseIterable, Sendable, CustomStringConvertible {
        case generic = 0, avx2 = 1, avx512 = 2
        public var description: String { String(cString: brx_isa_name(Int32(rawValue))) }
        public init?(name: String) {
            guard let isa = ISA.allCases.first(where: { $0.description == name }) else { return nil }
            self = isa
        }
    }

    /// The best set this CPU (and OS) supports.
    public static var detected: ISA { ISA(rawValue: Int(brx_isa_detected())) ?? .generic }
    /// The set in use.
    public static var active: ISA { ISA(rawValue: Int(brx_isa_active())) ?? .generic }
    /// Selects a set (tests, benchmarks); clamped to `detected`. Returns the set in use. Process-wide.
    @discardableResult
    public static func select(_ isa: ISA) -> ISA { ISA(rawValue: Int(brx_isa_select(Int32(isa.rawValue)))) ?? .generic }

    /// C (m x n, row stride ldc) = A (m x k, lda) * B (k x n, ldb), plus C when `accumulate`; row-major.
    @inline(__always)
    static func sgemm(m: Int, n: Int, k: Int,
                      a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int,
                      accumulate: Bool = false) {
        brx_sgemm(Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), c, Int32(ldc), accumulate ? 1 : 0)
    }

    /// As `sgemm` with the kernel set `isa` (clamped to `detected`), leaving the active set alone (tests).
    public static func sgemm(isa: ISA, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool = false) {
        brx_sgemm_isa(Int32(isa.rawValue), Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), c, Int32(ldc),
                      accumulate ? 1 : 0)
    }
}

extension Kernels {
    /// Winograd F(4x4,3x3) input transform of one tile, `c` channels (c % 4 == 0): `d` = the 36
    /// channel-vector pointers of the 6 x 6 input tile, position k written at v + k * stride. The widest
    /// vectors of the active set (16 lanes with AVX-512); the same bits whatever the set.
    @inline(__always)
    static func winograd4x4Input(_ d: UnsafeMutablePointer<UnsafePointer<Float>>, _ v: UnsafeMutablePointer<Float>,
                                 _ stride: Int, _ c: Int) {
        brx_winograd4x4_input(UnsafeRawPointer(d).assumingMemoryBound(to: UnsafePointer<Float>?.self), v, stride, Int32(c))
    }

    /// Winograd F(4x4,3x3) output transform of one tile, `cout` channels (cout % 4 == 0): Y = A^T M A +
    /// bias, then ReLU if `relu`; M position k at src + k * ms, output row r at dst + r * rowStride, column
    /// x at + x * cout, `rows` x `cols` outputs. The same bits whatever the set.
    @inline(__always)
    static func winograd4x4Output(_ src: UnsafePointer<Float>, _ ms: Int, _ dst: UnsafeMutablePointer<Float>, _ rowStride: Int,
                                  _ rows: Int, _ cols: Int, _ cout: Int, _ bias: UnsafePointer<Float>?, relu: Bool) {
        brx_winograd4x4_output(src, ms, dst, rowStride, Int32(rows), Int32(cols), Int32(cout), bias, relu ? 1 : 0)
    }

    /// C = A * B for row-major arrays (tests, the benchmark's reference multiplication).
    public static func multiply(m: Int, n: Int, k: Int, a: [Float], b: [Float], c: inout [Float]) {
        multiplyArrays(m: m, n: n, k: k, a: a, b: b, c: &c) {
            sgemm(m: m, n: n, k: k, a: $0, lda: k, b: $1, ldb: n, c: $2, ldc: n)
        }
    }
}

/// The array wrapper shared by `Kernels.multiply` and `Blas.multiply`: checks the sizes and hands the row-major
/// buffers of A (m x k), B (k x n) and C (m x n) to one SGEMM.
func multiplyArrays(m: Int, n: Int, k: Int, a: [Float], b: [Float], c: inout [Float],
                    _ sgemm: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
    precondition(a.count == m * k && b.count == k * n && c.count == m * n)
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in sgemm(ap.baseAddress!, bp.baseAddress!, cp.baseAddress!) }
        }
    }
}
