import Foundation
import Testing
@testable import BSNetEngine

/// The engine's own SGEMM kernel sets (Sources/CKernels) against a double-precision reference, on the
/// shapes that exercise their edges: row tails (every count below the 12/6-row micro-kernels), column
/// tails (masked vectors), k across the 256-wide slices, strided operands, accumulation, and the
/// packed path for large B.
@Suite struct SgemmKernelTests {
    /// The sets this CPU can run (others are clamped, so testing them would test a different set).
    static var runnable: [Kernels.ISA] { Kernels.ISA.allCases.filter { $0.rawValue <= Kernels.detected.rawValue } }

    @Test(arguments: [
        (m: 1, n: 1, k: 1), (m: 13, n: 33, k: 7), (m: 12, n: 32, k: 256), (m: 11, n: 17, k: 257),
        (m: 25, n: 16, k: 300), (m: 7, n: 8, k: 513), (m: 50, n: 64, k: 320), (m: 6, n: 100, k: 3),
        (m: 30, n: 3, k: 64),
        // k * n > 2^18 and m >= 24: the AVX-512 set copies panels of B (with a column tail).
        (m: 37, n: 1030, k: 300),
    ])
    func matchesDoubleReference(_ s: (m: Int, n: Int, k: Int)) {
        var rng = SeededRandom(UInt64(s.m * 10_007 + s.n * 101 + s.k))
        // Strides larger than the widths: the kernels must honour lda, ldb and ldc.
        let lda = s.k + 3, ldb = s.n + 5, ldc = s.n + 2
        let a = rng.array(s.m * lda), b = rng.array(s.k * ldb), c0 = rng.array(s.m * ldc)
        for isa in Self.runnable {
            for accumulate in [false, true] {
                var c = c0
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            Kernels.sgemm(isa: isa, m: s.m, n: s.n, k: s.k, a: ap.baseAddress!, lda: lda,
                                          b: bp.baseAddress!, ldb: ldb, c: cp.baseAddress!, ldc: ldc, accumulate: accumulate)
                        }
                    }
                }
                var worst = 0.0
                for i in 0..<s.m {
                    for j in 0..<s.n {
                        var sum = accumulate ? Double(c0[i * ldc + j]) : 0
                        for p in 0..<s.k { sum += Double(a[i * lda + p]) * Double(b[p * ldb + j]) }
                        worst = max(worst, abs(Double(c[i * ldc + j]) - sum))
                    }
                    // Padding columns between n and ldc are never written.
                    for j in s.n..<ldc { #expect(c[i * ldc + j] == c0[i * ldc + j], "\(isa) wrote past n") }
                }
                // Float32 sums of k products of magnitude <= 1: a few ulp of sqrt(k)-sized partial sums.
                #expect(worst <= 4e-6 * Double(s.k).squareRoot() + 1e-6, "\(isa) accumulate \(accumulate): max error \(worst)")
            }
        }
    }

    @Test func setsAgreeExactlyWhereTheOrderIsTheSame() {
        // AVX-512 and AVX2 both sum k in increasing order with one FMA per product: identical bits.
        guard Kernels.detected == .avx512 else { return }
        var rng = SeededRandom(99)
        let m = 29, n = 45, k = 600
        let a = rng.array(m * k), b = rng.array(k * n)
        var c512 = [Float](repeating: 0, count: m * n), c2 = c512
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c512.withUnsafeMutableBufferPointer { Kernels.sgemm(isa: .avx512, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: $0.baseAddress!, ldc: n) }
                c2.withUnsafeMutableBufferPointer { Kernels.sgemm(isa: .avx2, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: $0.baseAddress!, ldc: n) }
            }
        }
        #expect(c512 == c2)
    }

    @Test func detectionFollowsTheCPUFlags() throws {
        // Linux reports the CPU's features (as the kernel enabled them) in /proc/cpuinfo.
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            print("no /proc/cpuinfo flags: detection not checked against the OS")
            return
        }
        let flags = Set(line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }).map(String.init))
        let expected: Kernels.ISA = flags.contains("avx512f") && flags.contains("fma") ? .avx512
            : flags.contains("avx2") && flags.contains("fma") ? .avx2 : .generic
        #expect(Kernels.detected == expected)
        #expect(Kernels.ISA(name: Kernels.detected.description) == Kernels.detected)
    }
}

/// The C Winograd F(4x4,3x3) input transform (widest vectors of the active set) against the engine's
/// Swift SIMD4 transform, which computes the same expressions: the bits must be the same.
@Suite struct WinogradTransformKernelTests {
    @Test(arguments: [4, 8, 12, 16, 20, 28, 64, 68])
    func inputTransformMatchesSwiftBitForBit(channels c: Int) {
        var rng = SeededRandom(UInt64(500 + c))
        let tile = (0..<36).map { _ in rng.array(c, -100, 100) }
        let stride = c + 3
        var fromC = [Float](repeating: .nan, count: 36 * stride), fromSwift = fromC
        let storage = tile.map { values -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: c)
            p.initialize(from: values, count: c)
            return p
        }
        defer { storage.forEach { $0.deallocate() } }
        let d = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 36)
        defer { d.deallocate() }
        for k in 0..<36 { d[k] = UnsafePointer(storage[k]) }
        let tmp = UnsafeMutablePointer<SIMD4<Float>>.allocate(capacity: 128)
        defer { tmp.deallocate() }
        fromC.withUnsafeMutableBufferPointer { Kernels.winograd4x4Input(d, $0.baseAddress!, stride, c) }
        fromSwift.withUnsafeMutableBufferPointer { WinogradConv3x3Kernel.inputTransform(tile: 4, d, $0.baseAddress!, stride, c, tmp) }
        #expect(fromC.map(\.bitPattern) == fromSwift.map(\.bitPattern), "kernels \(Kernels.active)")
    }
}

extension WinogradTransformKernelTests {
    /// The C output transform against the Swift one, with and without bias and ReLU, on border tiles too.
    @Test(arguments: [4, 8, 16, 20, 36, 64])
    func outputTransformMatchesSwiftBitForBit(channels cout: Int) {
        var rng = SeededRandom(UInt64(900 + cout))
        let ms = cout + 5
        let m = rng.array(36 * ms, -50, 50), bias = rng.array(cout)
        let tmp = UnsafeMutablePointer<SIMD4<Float>>.allocate(capacity: 128)
        defer { tmp.deallocate() }
        for (rows, cols) in [(4, 4), (3, 4), (4, 1), (2, 3)] {
            for relu in [false, true] {
                for withBias in [false, true] {
                    let rowStride = 7 * cout
                    var fromC = [Float](repeating: .nan, count: 4 * rowStride), fromSwift = fromC
                    m.withUnsafeBufferPointer { mp in
                        bias.withUnsafeBufferPointer { bp in
                            let b = withBias ? bp.baseAddress : nil
                            fromC.withUnsafeMutableBufferPointer {
                                Kernels.winograd4x4Output(mp.baseAddress!, ms, $0.baseAddress!, rowStride, rows, cols, cout, b, relu: relu)
                            }
                            fromSwift.withUnsafeMutableBufferPointer {
                                WinogradConv3x3Kernel.outputTransform(tile: 4, mp.baseAddress!, ms, $0.baseAddress!, rowStride, rows, cols,
                                                                      cout, b, relu ? .relu : .none, tmp)
                            }
                        }
                    }
                    #expect(fromC.map(\.bitPattern) == fromSwift.map(\.bitPattern), "\(rows)x\(cols) relu \(relu) bias \(withBias)")
                }
            }
        }
    }
}
