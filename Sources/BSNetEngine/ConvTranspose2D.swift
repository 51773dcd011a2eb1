/// Fast Conv2DTranspose 4x4, stride 2, padding 'same' (= PyTorch padding 1), by sub-pixel
/// decomposition: output pixel (2m+p, 2n+q) only ever meets 2x2 of the 16 kernel taps, so each of the
/// four output parities is an ordinary 2x2 convolution of the input. No multiplication by the zeros a
/// naive "insert zeros, then convolve" implementation would do (4x fewer multiply-adds).
///
/// Along one axis, with o = 2i - 1 + k and o = 2m + parity: parity 0 uses (k=1, i=m) and (k=3, i=m-1);
/// parity 1 uses (k=2, i=m) and (k=0, i=m+1).
public final class ConvTranspose2DKernel {
    public let cin: Int, cout: Int
    /// Four (4*cin x cout) matrices, parity index 2p+q; im2col row order (tap a, tap b, ci).
    let packed: [[Float]]
    let bias: [Float]?
    public let activation: Activation

    static let taps: [[(k: Int, d: Int)]] = [[(1, 0), (3, -1)], [(2, 0), (0, 1)]]

    /// `kerasKernel` in Keras Conv2DTranspose layout (4, 4, out, in); `outScale` (folded BN) per output channel.
    public init(kerasKernel: [Float], cin: Int, cout: Int, outScale: [Float]?, bias: [Float]?, activation: Activation) {
        precondition(kerasKernel.count == 16 * cin * cout)
        self.cin = cin; self.cout = cout; self.bias = bias; self.activation = activation
        var packed: [[Float]] = []
        for p in 0..<2 {
            for q in 0..<2 {
                var mtx = [Float](repeating: 0, count: 4 * cin * cout)
                for a in 0..<2 {
                    for b in 0..<2 {
                        let ky = Self.taps[p][a].k, kx = Self.taps[q][b].k
                        let t = a * 2 + b
                        for ci in 0..<cin {
                            for o in 0..<cout {
                                let v = kerasKernel[((ky * 4 + kx) * cout + o) * cin + ci]
                                mtx[(t * cin + ci) * cout + o] = v * (outScale?[o] ?? 1)
                            }
                        }
                    }
                }
                packed.append(mtx)
            }
        }
        self.packed = packed
    }

    public func outputShape(_ s: Shape4) -> Shape4 { Shape4(s.n, 2 * s.h, 2 * s.w, cout) }

    /// Input image rows per block: about 1 MiB of im2col rows.
    private func imageRowsPerBlock(_ w: Int) -> Int { max(1, (1 << 18) / (4 * cin * w)) }

    func scratchFloats(n: Int, h: Int, w: Int) -> Int { min(h, imageRowsPerBlock(w)) * w * 4 * cin }

    /// Single-threaded run (tests, tools).
    public func run(_ input: Tensor, into out: Tensor, scratch: Scratch) {
        run(input, into: out, pool: WorkerPool.serial, scratch: [scratch])
    }

    /// Runs over `pool`: work items are (output parity, block of input image rows); `scratch[w]` per
    /// worker. Each input row's GEMM writes straight into the output (row stride 2*cout: the outputs
    /// of one parity are every other pixel), so there is no staging copy.
    public func run(_ input: Tensor, into out: Tensor, pool: WorkerPool, scratch: [Scratch]) {
        let s = input.shape
        precondition(s.c == cin && out.shape == outputShape(s), "conv-transpose shapes")
        precondition(scratch.count >= pool.size)
        let rowsPerBlock = min(s.h, imageRowsPerBlock(s.w))
        let imageRows = s.n * s.h
        let blocks = (imageRows + rowsPerBlock - 1) / rowsPerBlock
        let k = 4 * cin, cin = cin, cout = cout, activation = activation
        let cols = scratch.prefix(pool.size).map { $0.reserve(rowsPerBlock * s.w * k) }
        let bp = bias?.withUnsafeBufferPointer { $0.baseAddress! }
        let ow = 2 * s.w, oh = 2 * s.h
        let weights = packed.map { $0.withUnsafeBufferPointer { $0.baseAddress! } }
        withExtendedLifetime(packed) {
            pool.parallelFor(4 * blocks) { worker, item in
                let parity = item / blocks, p = parity / 2, q = parity % 2
                let firstRow = (item % blocks) * rowsPerBlock, rows = min(rowsPerBlock, imageRows - firstRow)
                let col = cols[worker]
                var dst = col
                for r in 0..<rows {
                    let bIdx = (firstRow + r) / s.h, my = (firstRow + r) % s.h
                    for nx in 0..<s.w {
                        for a in 0..<2 {
                            let iy = my + Self.taps[p][a].d
                            for b in 0..<2 {
                                let ix = nx + Self.taps[q][b].d
                                if iy < 0 || iy >= s.h || ix < 0 || ix >= s.w {
                                    dst.update(repeating: 0, count: cin)
                                } else {
                                    dst.update(from: input.data + ((bIdx * s.h + iy) * s.w + ix) * cin, count: cin)
                                }
                                dst += cin
                            }
                        }
                    }
                }
                for r in 0..<rows {
                    let bIdx = (firstRow + r) / s.h, my = (firstRow + r) % s.h
                    let c = out.data + ((bIdx * oh + 2 * my + p) * ow + q) * cout
                    Blas.sgemm(m: s.w, n: cout, k: k, a: col + r * s.w * k, lda: k, b: weights[parity], ldb: cout, c: c, ldc: 2 * cout)
                    biasActivate(c, rows: s.w, cols: cout, ld: 2 * cout, bias: bp, activation: activation)
                }
            }
        }
    }
}
