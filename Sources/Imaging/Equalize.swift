/// The authors' histogram equalisation: PIL ImageOps.equalize on a 12-bit quantisation, then / max
/// (docs: bsnet-architecture.md section 3).
public enum Equalize {
    public static let levels = 4096

    /// 12-bit level of a [0,1] value: trunc(4095 v), clamped.
    @inline(__always) public static func quantise(_ v: Double) -> Int {
        let q = Int((4095 * v).rounded(.towardZero))
        return min(max(q, 0), levels - 1)
    }

    /// Equalised levels (0...4096) of [0,1] values.
    public static func equalizedLevels(_ values: [Double]) -> [Int] {
        let q = values.map(quantise)
        var hist = [Int](repeating: 0, count: levels)
        for v in q { hist[v] += 1 }
        guard let top = hist.lastIndex(where: { $0 > 0 }) else { return q }
        let step = (q.count - hist[top]) / levels
        if step == 0 { return q }
        var lut = [Int](repeating: 0, count: levels)
        var acc = step / 2
        for k in 0..<levels {
            lut[k] = min(acc / step, levels)
            acc += hist[k]
        }
        return q.map { lut[$0] }
    }

    /// Equalised image divided by its maximum, in [0,1].
    public static func equalize(_ values: [Double]) -> [Double] {
        let e = equalizedLevels(values)
        let m = Double(e.max() ?? 0)
        return m > 0 ? e.map { Double($0) / m } : e.map { _ in 0 }
    }
}
