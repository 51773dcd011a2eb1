/// Fast 2-D convolution: im2col in row blocks + OpenBLAS SGEMM, with bias and activation fused into
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

    /// Floats of scratch needed for an input of spatial size h x w and batch n.
    func scratchFloats(n: Int, h: Int, w: Int) -> Int {
        if isPointwise { return 0 }
        return rowsPerBlock(n * geometry.outSize(h) * geometry.outSize(w)) * geometry.k
    }

    var isPointwise: Bool { geometry.kernel == 1 && geometry.stride == 1 && geometry.pad == 0 }

    private func rowsPerBlock(_ m: Int) -> Int { min(m, max(32, (1 << 20) / geometry.k)) }

    public func outputShape(_ s: Shape4) -> Shape4 {
        Shape4(s.n, geometry.outSize(s.h), geometry.outSize(s.w), geometry.cout)
    }

    public func run(_ parts: [Tensor], into out: Tensor, scratch: Scratch) {
        let g = geometry
        let s0 = parts[0].shape
        precondition(parts.reduce(0) { $0 + $1.shape.c } == g.cin, "conv input channels")
        precondition(out.shape == outputShape(Shape4(s0.n, s0.h, s0.w, g.cin)), "conv output shape")
        let oh = out.shape.h, ow = out.shape.w
        let m = s0.n * oh * ow
        weights.withUnsafeBufferPointer { wp in
            let bp = bias?.withUnsafeBufferPointer { $0.baseAddress! }
            if isPointwise && parts.count == 1 {
                Blas.sgemm(m: m, n: g.cout, k: g.cin, a: parts[0].data, lda: g.cin,
                           b: wp.baseAddress!, ldb: g.cout, c: out.data, ldc: g.cout)
                biasActivate(out.data, rows: m, cols: g.cout, ld: g.cout, bias: bp, activation: activation)
                return
            }
            let block = rowsPerBlock(m)
            let k = g.k
            let col = scratch.reserve(block * k)
            var row0 = 0
            while row0 < m {
                let rows = min(block, m - row0)
                im2col(parts, h: s0.h, w: s0.w, oh: oh, ow: ow, firstRow: row0, rows: rows, into: col)
                let c = out.data + row0 * g.cout
                Blas.sgemm(m: rows, n: g.cout, k: k, a: col, lda: k, b: wp.baseAddress!, ldb: g.cout, c: c, ldc: g.cout)
                biasActivate(c, rows: rows, cols: g.cout, ld: g.cout, bias: bp, activation: activation)
                row0 += rows
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
