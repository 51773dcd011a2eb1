import Foundation

/// Inference BatchNorm as a per-channel affine map y = x * scale + shift, the form TF's fused batch
/// norm evaluates (scale = gamma / sqrt(var + eps), shift = beta - mean * scale; computed in Double).
public struct ChannelAffine: Sendable {
    public var scale: [Float]
    public var shift: [Float]
    public init(scale: [Float], shift: [Float]) { self.scale = scale; self.shift = shift }

    public init(gamma: [Float]?, beta: [Float], mean: [Float], variance: [Float], epsilon: Double) {
        var scale = [Float](repeating: 0, count: beta.count), shift = scale
        for c in 0..<beta.count {
            let s = Double(gamma?[c] ?? 1) / (Double(variance[c]) + epsilon).squareRoot()
            scale[c] = Float(s)
            shift[c] = Float(Double(beta[c]) - Double(mean[c]) * s)
        }
        self.scale = scale; self.shift = shift
    }
}

public enum Pointwise {
    /// out = act(x * scale + shift), per channel (standalone BatchNorm, e.g. the pre-activation BNs).
    public static func affine(_ x: Tensor, _ a: ChannelAffine, _ act: Activation, into out: Tensor) {
        precondition(x.shape == out.shape && a.scale.count == x.shape.c)
        let c = x.shape.c, rows = x.count / c
        a.scale.withUnsafeBufferPointer { sc in
            a.shift.withUnsafeBufferPointer { sh in
                for r in 0..<rows {
                    let src = x.data + r * c, dst = out.data + r * c
                    switch act {
                    case .relu: for j in 0..<c { let v = src[j] * sc[j] + sh[j]; dst[j] = v > 0 ? v : 0 }
                    default: for j in 0..<c { dst[j] = act.apply(src[j] * sc[j] + sh[j]) }
                    }
                }
            }
        }
    }

    public static func activate(_ x: Tensor, _ act: Activation, into out: Tensor) {
        precondition(x.count == out.count)
        for i in 0..<x.count { out.data[i] = act.apply(x.data[i]) }
    }

    public static func add(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        precondition(a.shape == b.shape && a.shape == out.shape)
        for i in 0..<a.count { out.data[i] = a.data[i] + b.data[i] }
    }

    /// Element-wise mean of `xs` (equal shapes): averaged score-head probabilities. Summed in input order, so
    /// the result does not depend on threads.
    public static func mean(_ xs: [Tensor], into out: Tensor) {
        precondition(!xs.isEmpty && xs.allSatisfy { $0.shape == out.shape })
        let scale = 1 / Float(xs.count)
        for i in 0..<out.count {
            var sum: Float = 0
            for x in xs { sum += x.data[i] }
            out.data[i] = sum * scale
        }
    }

    /// x (n,h,w,c) times a one-channel mask (n,h,w,1), broadcast over channels.
    public static func multiplyMask(_ x: Tensor, _ mask: Tensor, into out: Tensor) {
        let s = x.shape
        precondition(mask.shape == Shape4(s.n, s.h, s.w, 1) && out.shape == s)
        for p in 0..<(s.n * s.h * s.w) {
            let m = mask.data[p]
            let src = x.data + p * s.c, dst = out.data + p * s.c
            for j in 0..<s.c { dst[j] = src[j] * m }
        }
    }
}

public enum Pooling {
    /// Max pool k x k / stride with `pad` zeros around (Keras ZeroPadding2D + MaxPooling2D 'valid').
    public static func outputShape(_ s: Shape4, k: Int, stride: Int, pad: Int) -> Shape4 {
        Shape4(s.n, (s.h + 2 * pad - k) / stride + 1, (s.w + 2 * pad - k) / stride + 1, s.c)
    }

    public static func maxPool(_ x: Tensor, k: Int, stride: Int, pad: Int, into out: Tensor) {
        let s = x.shape, o = out.shape
        precondition(o == outputShape(s, k: k, stride: stride, pad: pad))
        for b in 0..<s.n {
            for oy in 0..<o.h {
                for ox in 0..<o.w {
                    let dst = out.data + ((b * o.h + oy) * o.w + ox) * s.c
                    var first = true
                    for ky in 0..<k {
                        let iy = oy * stride - pad + ky
                        for kx in 0..<k {
                            let ix = ox * stride - pad + kx
                            let inside = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w
                            if first {
                                if inside { dst.update(from: x.data + ((b * s.h + iy) * s.w + ix) * s.c, count: s.c) }
                                else { dst.update(repeating: 0, count: s.c) }
                                first = false
                            } else if inside {
                                let src = x.data + ((b * s.h + iy) * s.w + ix) * s.c
                                for j in 0..<s.c where src[j] > dst[j] { dst[j] = src[j] }
                            } else {
                                for j in 0..<s.c where dst[j] < 0 { dst[j] = 0 }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Global average pool (n,h,w,c) -> (n,1,1,c).
    public static func globalAverage(_ x: Tensor, into out: Tensor) {
        let s = x.shape
        precondition(out.shape == Shape4(s.n, 1, 1, s.c))
        for b in 0..<s.n {
            var acc = [Double](repeating: 0, count: s.c)
            for p in 0..<(s.h * s.w) {
                let src = x.data + (b * s.h * s.w + p) * s.c
                for j in 0..<s.c { acc[j] += Double(src[j]) }
            }
            for j in 0..<s.c { out.data[b * s.c + j] = Float(acc[j] / Double(s.h * s.w)) }
        }
    }
}

public enum Dense {
    /// out (n,1,1,units) = flatten_HWC(x) (n,K) * W (K,units) + bias.
    public static func run(_ x: Tensor, weights: [Float], bias: [Float], units: Int, activation: Activation, into out: Tensor) {
        let n = x.shape.n, k = x.count / n
        precondition(weights.count == k * units && bias.count == units && out.count == n * units)
        weights.withUnsafeBufferPointer { w in
            Kernels.sgemm(m: n, n: units, k: k, a: x.data, lda: k, b: w.baseAddress!, ldb: units, c: out.data, ldc: units)
        }
        bias.withUnsafeBufferPointer { biasActivate(out.data, rows: n, cols: units, ld: units, bias: $0.baseAddress!, activation: activation) }
    }
}

public enum Softmax {
    /// Softmax over the channel axis of (n,1,1,c).
    public static func run(_ x: Tensor, into out: Tensor) {
        let c = x.shape.c, rows = x.count / c
        for r in 0..<rows {
            let src = x.data + r * c, dst = out.data + r * c
            var mx = -Float.infinity
            for j in 0..<c { mx = max(mx, src[j]) }
            var sum: Float = 0
            for j in 0..<c { dst[j] = expf(src[j] - mx); sum += dst[j] }
            for j in 0..<c { dst[j] /= sum }
        }
    }
}
