/// Plausibility check of a frontal chest display: lungs (air) must be darker than the mediastinum.
/// Catches a wrong PhotometricInterpretation (e.g. a false MONOCHROME1 tag); a warning, not a rejection,
/// because positioning and pathology (white-out lungs) can defeat it.
public enum InversionCheck {
    public struct Result: Sendable, Equatable {
        /// Mean display value in two lung boxes (x 22-38 % and 62-78 %, y 35-60 %).
        public var lungMean: Double
        /// Mean display value in the mediastinum box (x 46-54 %, y 35-60 %).
        public var mediastinumMean: Double
        public var looksInverted: Bool { lungMean > mediastinumMean }
        public var warning: String? {
            looksInverted
                ? "display may be inverted: lung fields (mean \(fmt(lungMean))) brighter than mediastinum (mean \(fmt(mediastinumMean))); check PhotometricInterpretation"
                : nil
        }
        private func fmt(_ v: Double) -> String { String(Int((v * 1000).rounded())) + "e-3" }
    }

    public static func check(_ image: DisplayImage) -> Result {
        func boxMean(_ x0: Double, _ x1: Double, _ y0: Double, _ y1: Double) -> (Double, Int) {
            let w = image.width, h = image.height
            let xa = Int(x0 * Double(w)), xb = max(xa + 1, Int(x1 * Double(w)))
            let ya = Int(y0 * Double(h)), yb = max(ya + 1, Int(y1 * Double(h)))
            var s = 0.0
            for y in ya..<min(yb, h) { for x in xa..<min(xb, w) { s += Double(image.pixels[y * w + x]) } }
            return (s, (min(yb, h) - ya) * (min(xb, w) - xa))
        }
        let r = boxMean(0.22, 0.38, 0.35, 0.60), l = boxMean(0.62, 0.78, 0.35, 0.60), m = boxMean(0.46, 0.54, 0.35, 0.60)
        return Result(lungMean: (r.0 + l.0) / Double(max(1, r.1 + l.1)), mediastinumMean: m.0 / Double(max(1, m.1)))
    }
}
