/// Bilinear resize with OpenCV INTER_LINEAR semantics: half-pixel centres, edge clamping, no antialiasing,
/// interpolation weights rounded to Float as OpenCV does, arithmetic in Double (the authors resize float64).
/// Each pass is a fused lerp a + (b - a) * w: that form reproduces the reference cv2.resize output bit for bit
/// (checked on cxr_loaded_512_float64.npy), so the 12-bit quantisation that follows sees identical values.
public enum Resize {
    public static func bilinear(_ src: [Double], width: Int, height: Int, toWidth dw: Int, toHeight dh: Int) -> [Double] {
        precondition(src.count == width * height && dw > 0 && dh > 0)
        let (xi, xa) = taps(srcSize: width, dstSize: dw)
        let (yi, ya) = taps(srcSize: height, dstSize: dh)
        // Horizontal pass on every source row, then vertical blend (OpenCV's order).
        var rows = [Double](repeating: 0, count: height * dw)
        for y in 0..<height {
            let s = y * width, d = y * dw
            for x in 0..<dw {
                let i = xi[x], a = xa[x]
                let right = i + 1 < width ? src[s + i + 1] : src[s + i]
                rows[d + x] = src[s + i].addingProduct(right - src[s + i], a)
            }
        }
        var out = [Double](repeating: 0, count: dw * dh)
        for y in 0..<dh {
            let i = yi[y], b = ya[y]
            let r0 = i * dw, r1 = (i + 1 < height ? i + 1 : i) * dw, d = y * dw
            for x in 0..<dw { out[d + x] = rows[r0 + x].addingProduct(rows[r1 + x] - rows[r0 + x], b) }
        }
        return out
    }

    /// Source index and weight of the right/lower neighbour for each destination index.
    static func taps(srcSize: Int, dstSize: Int) -> ([Int], [Double]) {
        let scale = Double(srcSize) / Double(dstSize)
        var idx = [Int](repeating: 0, count: dstSize), w = [Double](repeating: 0, count: dstSize)
        for d in 0..<dstSize {
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if s < 0 { s = 0; f = 0 }
            if s >= srcSize - 1 { s = srcSize - 1; f = 0 }
            idx[d] = s
            w[d] = Double(f)
        }
        return (idx, w)
    }
}
