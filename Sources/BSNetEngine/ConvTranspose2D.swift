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

    private func rowsPerBlock(_ m: Int) -> Int { min(m, max(32, (1 << 20) / (4 * cin))) }

    func scratchFloats(n: Int, h: Int, w: Int) -> Int {
        let rows = rowsPerBlock(n * h * w)
        return rows * 4 * cin + rows * cout
    }

    public func run(_ input: Tensor, into out: Tensor, scratch: Scratch) {
        let s = input.shape
        precondition(s.c == cin && out.shape == outputShape(s), "conv-transpose shapes")
        let m = s.n * s.h * s.w
        let block = rowsPerBlock(m)
        let k = 4 * cin
        let col = scratch.reserve(block * k + block * cout)
        let res = col + block * k
        let bp = bias?.withUnsafeBufferPointer { $0.baseAddress! }
        let ow = 2 * s.w, oh = 2 * s.h
        for p in 0..<2 {
            for q in 0..<2 {
                packed[p * 2 + q].withUnsafeBufferPointer { wp in
                    var row0 = 0
                    while row0 < m {
                        let rows = min(block, m - row0)
                        for r in 0..<rows {
                            let idx = row0 + r
                            let bIdx = idx / (s.h * s.w), my = (idx / s.w) % s.h, nx = idx % s.w
                            var dst = col + r * k
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
                        Blas.sgemm(m: rows, n: cout, k: k, a: col, lda: k, b: wp.baseAddress!, ldb: cout, c: res, ldc: cout)
                        biasActivate(res, rows: rows, cols: cout, ld: cout, bias: bp, activation: activation)
                        for r in 0..<rows {
                            let idx = row0 + r
                            let bIdx = idx / (s.h * s.w), my = (idx / s.w) % s.h, nx = idx % s.w
                            let o = ((bIdx * oh + 2 * my + p) * ow + 2 * nx + q) * cout
                            (out.data + o).update(from: res + r * cout, count: cout)
                        }
                        row0 += rows
                    }
                }
            }
        }
    }
}
