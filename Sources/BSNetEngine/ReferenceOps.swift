import Foundation

/// Naive reference implementations, written straight from the definitions (Keras/TF semantics, see
/// docs/engine.md), one loop nest per output element, Double accumulation. They are slow on purpose
/// and exist so every fast kernel can be tested against them on random data.
public enum ReferenceOps {
    /// Conv2D with Keras kernel (kh,kw,in,out), symmetric zero padding `pad`, then bias and activation.
    public static func conv2d(_ x: Tensor, kernel: [Float], k: Int, stride: Int, pad: Int, cout: Int,
                              bias: [Float]? = nil, activation: Activation = .none) -> Tensor {
        let s = x.shape
        let oh = (s.h + 2 * pad - k) / stride + 1, ow = (s.w + 2 * pad - k) / stride + 1
        let out = Tensor(Shape4(s.n, oh, ow, cout))
        for b in 0..<s.n { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<cout {
            var acc = 0.0
            for ky in 0..<k { for kx in 0..<k {
                let iy = oy * stride - pad + ky, ix = ox * stride - pad + kx
                guard iy >= 0, iy < s.h, ix >= 0, ix < s.w else { continue }
                for ci in 0..<s.c {
                    acc += Double(x[b, iy, ix, ci]) * Double(kernel[((ky * k + kx) * s.c + ci) * cout + o])
                }
            } }
            out[b, oy, ox, o] = activation.apply(Float(acc + Double(bias?[o] ?? 0)))
        } } } }
        return out
    }

    /// Conv2DTranspose 4x4 stride 2 'same' (padding 1): out[o] += in[i] * K[k] with o = 2i - 1 + k.
    /// Keras kernel layout (4,4,out,in).
    public static func convTranspose4x4s2(_ x: Tensor, kernel: [Float], cout: Int) -> Tensor {
        let s = x.shape
        let acc = UnsafeMutablePointer<Double>.allocate(capacity: s.n * 4 * s.h * s.w * cout)
        defer { acc.deallocate() }
        acc.initialize(repeating: 0, count: s.n * 4 * s.h * s.w * cout)
        let oh = 2 * s.h, ow = 2 * s.w
        for b in 0..<s.n { for iy in 0..<s.h { for ix in 0..<s.w { for ky in 0..<4 { for kx in 0..<4 {
            let oy = 2 * iy - 1 + ky, ox = 2 * ix - 1 + kx
            guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
            for o in 0..<cout {
                var sum = 0.0
                for ci in 0..<s.c { sum += Double(x[b, iy, ix, ci]) * Double(kernel[((ky * 4 + kx) * cout + o) * s.c + ci]) }
                acc[((b * oh + oy) * ow + ox) * cout + o] += sum
            }
        } } } } }
        let out = Tensor(Shape4(s.n, oh, ow, cout))
        for i in 0..<out.count { out.data[i] = Float(acc[i]) }
        return out
    }

    /// Inference BatchNorm: (x - mean) / sqrt(var + eps) * gamma + beta, then activation.
    public static func batchNorm(_ x: Tensor, gamma: [Float]?, beta: [Float], mean: [Float], variance: [Float],
                                 epsilon: Double, activation: Activation = .none) -> Tensor {
        let out = Tensor(x.shape)
        for i in 0..<x.count {
            let c = i % x.shape.c
            let v = (Double(x.data[i]) - Double(mean[c])) / (Double(variance[c]) + epsilon).squareRoot()
                * Double(gamma?[c] ?? 1) + Double(beta[c])
            out.data[i] = activation.apply(Float(v))
        }
        return out
    }

    public static func activation(_ x: Tensor, _ a: Activation) -> Tensor {
        let out = Tensor(x.shape)
        for i in 0..<x.count {
            let v = Double(x.data[i])
            switch a {
            case .none: out.data[i] = Float(v)
            case .relu: out.data[i] = Float(max(v, 0))
            case .sigmoid: out.data[i] = Float(1 / (1 + exp(-v)))
            case .swish: out.data[i] = Float(v * (1 / (1 + exp(-v))))
            }
        }
        return out
    }

    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = Tensor(a.shape)
        for i in 0..<a.count { out.data[i] = a.data[i] + b.data[i] }
        return out
    }

    public static func concat(_ parts: [Tensor]) -> Tensor {
        let s = parts[0].shape
        let c = parts.reduce(0) { $0 + $1.shape.c }
        let out = Tensor(Shape4(s.n, s.h, s.w, c))
        for b in 0..<s.n { for y in 0..<s.h { for x in 0..<s.w {
            var o = 0
            for p in parts { for ch in 0..<p.shape.c { out[b, y, x, o] = p[b, y, x, ch]; o += 1 } }
        } } }
        return out
    }

    /// ZeroPadding2D(pad) then MaxPooling2D(k, stride, 'valid').
    public static func maxPool(_ x: Tensor, k: Int, stride: Int, pad: Int) -> Tensor {
        let s = x.shape
        let oh = (s.h + 2 * pad - k) / stride + 1, ow = (s.w + 2 * pad - k) / stride + 1
        let out = Tensor(Shape4(s.n, oh, ow, s.c))
        for b in 0..<s.n { for oy in 0..<oh { for ox in 0..<ow { for ch in 0..<s.c {
            var m = -Float.infinity
            for ky in 0..<k { for kx in 0..<k {
                let iy = oy * stride - pad + ky, ix = ox * stride - pad + kx
                let v: Float = (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w) ? x[b, iy, ix, ch] : 0
                m = max(m, v)
            } }
            out[b, oy, ox, ch] = m
        } } } }
        return out
    }

    public static func globalAveragePool(_ x: Tensor) -> Tensor {
        let s = x.shape
        let out = Tensor(Shape4(s.n, 1, 1, s.c))
        for b in 0..<s.n { for ch in 0..<s.c {
            var acc = 0.0
            for y in 0..<s.h { for xx in 0..<s.w { acc += Double(x[b, y, xx, ch]) } }
            out[b, 0, 0, ch] = Float(acc / Double(s.h * s.w))
        } }
        return out
    }

    public static func softmax(_ x: [Float]) -> [Float] {
        let m = x.max() ?? 0
        let e = x.map { exp(Double($0 - m)) }
        let sum = e.reduce(0, +)
        return e.map { Float($0 / sum) }
    }

    /// Dense on the HWC-flattened input, weights (K, units).
    public static func dense(_ x: [Float], weights: [Float], bias: [Float], units: Int) -> [Float] {
        (0..<units).map { u in
            var acc = Double(bias[u])
            for i in 0..<x.count { acc += Double(x[i]) * Double(weights[i * units + u]) }
            return Float(acc)
        }
    }

    /// Bilinear sample of channel `ch` at real pixel position (y, x) with TF's lerp order.
    static func lerp(_ x: Tensor, _ b: Int, _ ch: Int, y0: Int, y1: Int, x0: Int, x1: Int, yl: Float, xl: Float) -> Float {
        let top = x[b, y0, x0, ch] + (x[b, y0, x1, ch] - x[b, y0, x0, ch]) * xl
        let bottom = x[b, y1, x0, ch] + (x[b, y1, x1, ch] - x[b, y1, x0, ch]) * xl
        return top + (bottom - top) * yl
    }

    /// tf.image.resize bilinear, half-pixel centres, no antialias.
    public static func resizeBilinear(_ x: Tensor, height: Int, width: Int) -> Tensor {
        let s = x.shape
        let out = Tensor(Shape4(s.n, height, width, s.c))
        let sy = Float(s.h) / Float(height), sx = Float(s.w) / Float(width)
        for b in 0..<s.n { for i in 0..<height { for j in 0..<width { for ch in 0..<s.c {
            let py = (Float(i) + 0.5) * sy - 0.5, px = (Float(j) + 0.5) * sx - 0.5
            let fy = floor(py), fx = floor(px)
            out[b, i, j, ch] = lerp(x, b, ch, y0: max(Int(fy), 0), y1: min(Int(ceil(py)), s.h - 1),
                                    x0: max(Int(fx), 0), x1: min(Int(ceil(px)), s.w - 1), yl: py - fy, xl: px - fx)
        } } } }
        return out
    }

    /// The authors' BilinearInterpolation, element by element from its definition.
    public static func stnSample(_ x: Tensor, theta: [Float]) -> Tensor {
        let s = x.shape
        let out = Tensor(s)
        for b in 0..<s.n { for i in 0..<s.h { for j in 0..<s.w {
            let t = Array(theta[(6 * b)..<(6 * b + 6)])
            let u: Float = j == s.w - 1 ? 1 : -1 + Float(j) * (2 / Float(s.w - 1))
            let v: Float = i == s.h - 1 ? 1 : -1 + Float(i) * (2 / Float(s.h - 1))
            let xs = t[0] * u + t[1] * v + t[2], ys = t[3] * u + t[4] * v + t[5]
            let px = 0.5 * (xs + 1) * Float(s.w), py = 0.5 * (ys + 1) * Float(s.h)
            let x0 = Int(px.rounded(.towardZero)), y0 = Int(py.rounded(.towardZero))
            let cx0 = min(max(x0, 0), s.w - 1), cx1 = min(max(x0 + 1, 0), s.w - 1)
            let cy0 = min(max(y0, 0), s.h - 1), cy1 = min(max(y0 + 1, 0), s.h - 1)
            for ch in 0..<s.c {
                let a = (Float(cx1) - px) * (Float(cy1) - py) * x[b, cy0, cx0, ch]
                let bb = (Float(cx1) - px) * (py - Float(cy0)) * x[b, cy1, cx0, ch]
                let c = (px - Float(cx0)) * (Float(cy1) - py) * x[b, cy0, cx1, ch]
                let d = (px - Float(cx0)) * (py - Float(cy0)) * x[b, cy1, cx1, ch]
                out[b, i, j, ch] = a + bb + c + d
            }
        } } }
        return out
    }

    /// tf.image.crop_and_resize(x, boxes, crop_size = (H, W)) for the six zone boxes; x is (1,H,W,C).
    public static func cropZones(_ x: Tensor) -> Tensor {
        let s = x.shape
        let out = Tensor(Shape4(6, s.h, s.w, s.c))
        for (r, box) in Resample.zoneBoxes.enumerated() {
            let hs = (box[2] - box[0]) * Float(s.h - 1) / Float(s.h - 1)
            let ws = (box[3] - box[1]) * Float(s.w - 1) / Float(s.w - 1)
            for i in 0..<s.h { for j in 0..<s.w { for ch in 0..<s.c {
                let py = box[0] * Float(s.h - 1) + Float(i) * hs
                let px = box[1] * Float(s.w - 1) + Float(j) * ws
                let fy = floor(py), fx = floor(px)
                out[r, i, j, ch] = lerp(x, 0, ch, y0: Int(fy), y1: min(Int(ceil(py)), s.h - 1),
                                        x0: Int(fx), x1: min(Int(ceil(px)), s.w - 1), yl: py - fy, xl: px - fx)
            } } }
        }
        return out
    }
}
