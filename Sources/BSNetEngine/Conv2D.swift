/// Fast 2-D convolution: im2col in row blocks + SGEMM (`Kernels.sgemm`), with bias and activation fused into
/// the epilogue. The input may be several tensors concatenated along channels ("implicit concat"):
/// the U-Net++ merges are never materialised, the im2col gather reads straight from the parts.
///
/// Weights are Keras Conv2D layout (kh, kw, in, out), which flattened is exactly the (K x Cout)
/// GEMM operand for an im2col row ordered (ky, kx, ci).
public struct ConvGeometry: Hashable, Sendable {
    public var kernel: Int, stride: Int, pad: Int, cin: Int, cout: Int
    public init(kernel: Int, stride: Int = 1, pad: Int = 0, cin: Int, cout: Int) {
        self.kernel = kernel; self.stride = stride; self.pad = pad; self.cin = cin; self.cout = cout
    }
    public func outSize(_ n: Int) -> Int { (n + 2 * pad - kernel) / stride + 1 }
    public var k: Int { kernel * kernel * cin }
}

public final class Conv2DKernel {
    public let geometry: ConvGeometry
    /// (K x cout) row-major.
    let weights: [Float]
    let bias: [Float]?
    public let activation: Activation

    public init(geometry: ConvGeometry, weights: [Float], bias: [Float]?, activation: Activation) {
        precondition(weights.count == geometry.k * geometry.cout)
        precondition(bias == nil || bias!.count == geometry.cout)
        self.geometry = geometry; self.weights = weights; self.bias = bias; self.activation = activation
    }

    /// Floats of scratch needed per worker for an input of spatial size h x w and batch n.
    func scratchFloats(n: Int, h: Int, w: Int) -> Int {
        if isPointwise || geometry.cout == 1 { return 0 }
        return rowsPerBlock(n * geometry.outSize(h) * geometry.outSize(w)) * geometry.k
    }

    var isPointwise: Bool { geometry.kernel == 1 && geometry.stride == 1 && geometry.pad == 0 }

    /// About 1 MiB of im2col rows per block (a worker's gather + GEMM stay in its L2/L3 share).
    private func rowsPerBlock(_ m: Int) -> Int { min(m, max(32, (1 << 18) / geometry.k)) }

    public func outputShape(_ s: Shape4) -> Shape4 {
        Shape4(s.n, geometry.outSize(s.h), geometry.outSize(s.w), geometry.cout)
    }

    /// Single-threaded run (tests, tools).
    public func run(_ parts: [Tensor], into out: Tensor, scratch: Scratch) {
        run(parts, into: out, pool: WorkerPool.serial, scratch: [scratch])
    }

    /// Runs over `pool` by blocks of output rows; `scratch[w]` is worker w's im2col buffer.
    public func run(_ parts: [Tensor], into out: Tensor, pool: WorkerPool, scratch: [Scratch]) {
        let g = geometry
        let s0 = parts[0].shape
        precondition(parts.reduce(0) { $0 + $1.shape.c } == g.cin, "conv input channels")
        precondition(out.shape == outputShape(Shape4(s0.n, s0.h, s0.w, g.cin)), "conv output shape")
        precondition(scratch.count >= pool.size)
        let oh = out.shape.h, ow = out.shape.w
        let m = s0.n * oh * ow
        let activation = activation
        weights.withUnsafeBufferPointer { wp in
            let bp = bias?.withUnsafeBufferPointer { $0.baseAddress! }
            if isPointwise && parts.count == 1 {
                // Direct GEMM on the NHWC input, split into row slices.
                let slice = max(64, (m + 4 * pool.size - 1) / (4 * pool.size))
                pool.parallelFor((m + slice - 1) / slice) { _, item in
                    let row0 = item * slice, rows = min(slice, m - row0)
                    let c = out.data + row0 * g.cout
                    Kernels.sgemm(m: rows, n: g.cout, k: g.cin, a: parts[0].data + row0 * g.cin, lda: g.cin,
                                  b: wp.baseAddress!, ldb: g.cout, c: c, ldc: g.cout)
                    biasActivate(c, rows: rows, cols: g.cout, ld: g.cout, bias: bp, activation: activation)
                }
                return
            }
            if g.cout == 1 && parts.count == 1 {
                runSingleOutput(parts[0], into: out, pool: pool, weights: wp.baseAddress!, bias: bp?.pointee ?? 0)
                return
            }
            var block = rowsPerBlock(m)
            if pool.size > 1 && (m + block - 1) / block < 2 * pool.size {
                block = max(16, (m + 2 * pool.size - 1) / (2 * pool.size))
            }
            let k = g.k
            let cols = scratch.prefix(pool.size).map { $0.reserve(block * k) }
            pool.parallelFor((m + block - 1) / block) { worker, item in
                let row0 = item * block, rows = min(block, m - row0)
                let col = cols[worker]
                im2col(parts, h: s0.h, w: s0.w, oh: oh, ow: ow, firstRow: row0, rows: rows, into: col)
                let c = out.data + row0 * g.cout
                Kernels.sgemm(m: rows, n: g.cout, k: k, a: col, lda: k, b: wp.baseAddress!, ldb: g.cout, c: c, ldc: g.cout)
                biasActivate(c, rows: rows, cols: g.cout, ld: g.cout, bias: bp, activation: activation)
            }
        }
    }

    /// One output channel (the final 3x3 conv to the sigmoid map): a direct convolution, dot products
    /// over the NHWC channel vectors. A GEMM with N = 1 would stream a 9x larger im2col copy for
    /// one multiply-add per element.
    private func runSingleOutput(_ x: Tensor, into out: Tensor, pool: WorkerPool, weights: UnsafePointer<Float>, bias: Float) {
        let g = geometry, s = x.shape
        let oh = out.shape.h, ow = out.shape.w, cin = g.cin, activation = activation
        let rows = s.n * oh
        let slice = max(1, (rows + 8 * pool.size - 1) / (8 * pool.size))
        pool.parallelFor((rows + slice - 1) / slice) { _, item in
            for row in (item * slice)..<min(rows, (item + 1) * slice) {
                let b = row / oh, oy = row % oh
                for ox in 0..<ow {
                    var acc = SIMD4<Float>()
                    var tail: Float = 0
                    for ky in 0..<g.kernel {
                        let iy = oy * g.stride - g.pad + ky
                        if iy < 0 || iy >= s.h { continue }
                        for kx in 0..<g.kernel {
                            let ix = ox * g.stride - g.pad + kx
                            if ix < 0 || ix >= s.w { continue }
                            let src = UnsafePointer(x.data + ((b * s.h + iy) * s.w + ix) * cin)
                            let w = weights + (ky * g.kernel + kx) * cin
                            var ci = 0
                            while ci + 4 <= cin {
                                acc += UnsafeRawPointer(src + ci).loadUnaligned(as: SIMD4<Float>.self)
                                    * UnsafeRawPointer(w + ci).loadUnaligned(as: SIMD4<Float>.self)
                                ci += 4
                            }
                            while ci < cin { tail += src[ci] * w[ci]; ci += 1 }
                        }
                    }
                    out.data[row * ow + ox] = activation.apply(acc.sum() + tail + bias)
                }
            }
        }
    }

    private func im2col(_ parts: [Tensor], h: Int, w: Int, oh: Int, ow: Int,
                        firstRow: Int, rows: Int, into col: UnsafeMutablePointer<Float>) {
        let g = geometry
        let k = g.k
        for r in 0..<rows {
            let mIndex = firstRow + r
            let b = mIndex / (oh * ow)
            let oy = (mIndex / ow) % oh
            let ox = mIndex % ow
            var dst = col + r * k
            for ky in 0..<g.kernel {
                let iy = oy * g.stride - g.pad + ky
                for kx in 0..<g.kernel {
                    let ix = ox * g.stride - g.pad + kx
                    if iy < 0 || iy >= h || ix < 0 || ix >= w {
                        dst.update(repeating: 0, count: g.cin)
                        dst += g.cin
                        continue
                    }
                    for p in parts {
                        let c = p.shape.c
                        let src = p.data + ((b * h + iy) * w + ix) * c
                        if c == 1 { dst.pointee = src.pointee } else { dst.update(from: src, count: c) }
                        dst += c
                    }
                }
            }
        }
    }
}
