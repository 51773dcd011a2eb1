import Foundation

/// The three bilinear samplers of BS-Net. Each precomputes its per-pixel indices and weights once per
/// output pixel and then runs over the contiguous channel vector (NHWC). Float32 arithmetic follows the
/// TensorFlow kernels' operation order so rounding matches.
public enum Resample {

    // MARK: tf.image.resize(bilinear), half_pixel_centers=True, no antialias (TF2 default)

    struct Axis { var lo: [Int]; var hi: [Int]; var frac: [Float] }

    /// TF resize_bilinear_op: in = (i + 0.5) * (inSize/outSize) - 0.5; lo = max(floor, 0), hi = min(ceil, in-1).
    static func halfPixelAxis(inSize: Int, outSize: Int) -> Axis {
        let scale = Float(inSize) / Float(outSize)
        var a = Axis(lo: [], hi: [], frac: [])
        for i in 0..<outSize {
            let src = (Float(i) + 0.5) * scale - 0.5
            let f = src.rounded(.down)
            a.lo.append(max(Int(f), 0))
            a.hi.append(min(Int(src.rounded(.up)), inSize - 1))
            a.frac.append(src - f)
        }
        return a
    }

    public static func resizeBilinear(_ x: Tensor, into out: Tensor) {
        let s = x.shape, o = out.shape
        precondition(s.n == o.n && s.c == o.c)
        let ay = halfPixelAxis(inSize: s.h, outSize: o.h), ax = halfPixelAxis(inSize: s.w, outSize: o.w)
        for b in 0..<s.n {
            for i in 0..<o.h {
                for j in 0..<o.w {
                    lerp4(x, b, ay.lo[i], ay.hi[i], ax.lo[j], ax.hi[j], yl: ay.frac[i], xl: ax.frac[j],
                          dst: out.data + ((b * o.h + i) * o.w + j) * o.c)
                }
            }
        }
    }

    /// TF's compute_lerp: top = tl + (tr - tl) * xl; bottom = bl + (br - bl) * xl; top + (bottom - top) * yl.
    @inline(__always)
    static func lerp4(_ x: Tensor, _ b: Int, _ y0: Int, _ y1: Int, _ x0: Int, _ x1: Int, yl: Float, xl: Float,
                      dst: UnsafeMutablePointer<Float>) {
        let s = x.shape
        let tl = x.data + ((b * s.h + y0) * s.w + x0) * s.c, tr = x.data + ((b * s.h + y0) * s.w + x1) * s.c
        let bl = x.data + ((b * s.h + y1) * s.w + x0) * s.c, br = x.data + ((b * s.h + y1) * s.w + x1) * s.c
        for j in 0..<s.c {
            let top = tl[j] + (tr[j] - tl[j]) * xl
            let bottom = bl[j] + (br[j] - bl[j]) * xl
            dst[j] = top + (bottom - top) * yl
        }
    }

    // MARK: STN BilinearInterpolation (the authors' layer, quirks included)

    /// tf.linspace(-1, 1, n) in float32.
    static func linspace(_ n: Int) -> [Float] {
        if n == 1 { return [-1] }
        let step = Float(2) / Float(n - 1)
        return (0..<n).map { $0 == n - 1 ? 1 : -1 + Float($0) * step }
    }

    /// Samples `x` (n,H,W,C) on the grid of `out` (n,oh,ow,C) through theta (6 per batch item, row-major
    /// [[t0,t1,t2],[t3,t4,t5]] applied to (u,v,1)). Pixel coordinates scale by W (not W-1), corners are
    /// trunc'd then clipped, and the weights use the clipped corners: samples at x >= W-1 or x <= -1 come
    /// out 0 (so the identity leaves a zero last row/column) and -1 < x < 0 extrapolates linearly.
    public static func stnSample(_ x: Tensor, theta: [Float], into out: Tensor) {
        let s = x.shape, o = out.shape
        precondition(s.n == o.n && s.c == o.c && theta.count == 6 * s.n)
        let u = linspace(o.w), v = linspace(o.h)
        let wf = Float(s.w), hf = Float(s.h)
        for b in 0..<s.n {
            let t = Array(theta[(6 * b)..<(6 * b + 6)])
            for i in 0..<o.h {
                for j in 0..<o.w {
                    let xs = t[0] * u[j] + t[1] * v[i] + t[2]
                    let ys = t[3] * u[j] + t[4] * v[i] + t[5]
                    let xp = 0.5 * (xs + 1) * wf
                    let yp = 0.5 * (ys + 1) * hf
                    let c = corners(xp, yp, w: s.w, h: s.h)
                    let dst = out.data + ((b * o.h + i) * o.w + j) * o.c
                    let pa = x.data + ((b * s.h + c.y0) * s.w + c.x0) * s.c
                    let pb = x.data + ((b * s.h + c.y1) * s.w + c.x0) * s.c
                    let pc = x.data + ((b * s.h + c.y0) * s.w + c.x1) * s.c
                    let pd = x.data + ((b * s.h + c.y1) * s.w + c.x1) * s.c
                    for ch in 0..<s.c {
                        dst[ch] = c.wa * pa[ch] + c.wb * pb[ch] + c.wc * pc[ch] + c.wd * pd[ch]
                    }
                }
            }
        }
    }

    struct Corners { var x0: Int, x1: Int, y0: Int, y1: Int, wa: Float, wb: Float, wc: Float, wd: Float }

    @inline(__always)
    static func corners(_ x: Float, _ y: Float, w: Int, h: Int) -> Corners {
        // int32 cast truncates toward zero; bound first so absurd theta cannot trap the conversion.
        let xi = Int(max(-1e7, min(1e7, x.isNaN ? 0 : x)))
        let yi = Int(max(-1e7, min(1e7, y.isNaN ? 0 : y)))
        let x0 = min(max(xi, 0), w - 1), x1 = min(max(xi + 1, 0), w - 1)
        let y0 = min(max(yi, 0), h - 1), y1 = min(max(yi + 1, 0), h - 1)
        let fx0 = Float(x0), fx1 = Float(x1), fy0 = Float(y0), fy1 = Float(y1)
        return Corners(x0: x0, x1: x1, y0: y0, y1: y1,
                       wa: (fx1 - x) * (fy1 - y), wb: (fx1 - x) * (y - fy0),
                       wc: (x - fx0) * (fy1 - y), wd: (x - fx0) * (y - fy0))
    }

    // MARK: pool_rois: tf.image.crop_and_resize to the map's own size, six Brixia zone boxes

    /// Boxes [y1, x1, y2, x2] (normalised) of regions r0..r5; region r = 2*row + col.
    public static let zoneBoxes: [[Float]] = [
        [0, 0, 0.4, 0.5], [0, 0.5, 0.4, 1],
        [0.3, 0, 0.7, 0.5], [0.3, 0.5, 0.7, 1],
        [0.6, 0, 1, 0.5], [0.6, 0.5, 1, 1],
    ]

    /// TF CropAndResize sample position: y1*(H-1) + i * ((y2-y1)*(H-1)/(crop-1)).
    static func cropAxis(lo: Float, hi: Float, size: Int, crop: Int) -> Axis {
        var a = Axis(lo: [], hi: [], frac: [])
        let scale = crop > 1 ? (hi - lo) * Float(size - 1) / Float(crop - 1) : 0
        for i in 0..<crop {
            let p = crop > 1 ? lo * Float(size - 1) + Float(i) * scale : 0.5 * (lo + hi) * Float(size - 1)
            let f = p.rounded(.down)
            // All BS-Net boxes lie inside the image; clamp only as a guard against rounding past the edge.
            a.lo.append(min(max(Int(f), 0), size - 1))
            a.hi.append(min(max(Int(p.rounded(.up)), 0), size - 1))
            a.frac.append(p - f)
        }
        return a
    }

    /// x (1,H,W,C) -> out (6,H,W,C): one crop per zone box, each resampled to H x W.
    public static func cropZones(_ x: Tensor, into out: Tensor) {
        let s = x.shape
        precondition(s.n == 1 && out.shape == Shape4(6, s.h, s.w, s.c))
        for (r, box) in zoneBoxes.enumerated() {
            let ay = cropAxis(lo: box[0], hi: box[2], size: s.h, crop: s.h)
            let ax = cropAxis(lo: box[1], hi: box[3], size: s.w, crop: s.w)
            for i in 0..<s.h {
                for j in 0..<s.w {
                    lerp4(x, 0, ay.lo[i], ay.hi[i], ax.lo[j], ax.hi[j], yl: ay.frac[i], xl: ax.frac[j],
                          dst: out.data + ((r * s.h + i) * s.w + j) * s.c)
                }
            }
        }
    }
}
