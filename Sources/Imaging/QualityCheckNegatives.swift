/// Project-made negatives for the image-content check (docs/quality-check.md): shared by `brixia dev qc-eval`
/// and the tests, so both judge the same images.
extension QualityCheck {
    public enum Negative {
        /// The kinds `derive` makes from a positive.
        public static let derivedKinds = ["inverted", "rotated90", "rotated180", "cropped"]

        /// Negatives made from a positive. "cropped": the upper outer quarter (shoulder, axilla, one apex),
        /// enlarged to the frame by the model's own resize: a radiograph, but not a chest.
        public static func derive(_ kind: String, _ im: DisplayImage) -> DisplayImage {
            let w = im.width, h = im.height, p = im.pixels
            switch kind {
            case "inverted": return try! DisplayImage(width: w, height: h, pixels: p.map { 1 - $0 })
            case "rotated180": return try! DisplayImage(width: w, height: h, pixels: p.reversed())
            case "rotated90":
                var q = [Float](repeating: 0, count: w * h)
                for y in 0..<h { for x in 0..<w { q[x * h + (h - 1 - y)] = p[y * w + x] } }
                return try! DisplayImage(width: h, height: w, pixels: q)
            default:
                let cw = max(1, w * 2 / 5), ch = max(1, h * 2 / 5)
                var q = [Float](); q.reserveCapacity(cw * ch)
                for y in 0..<ch { for x in 0..<cw { q.append(p[y * w + x]) } }
                return try! DisplayImage(width: cw, height: ch, pixels: q)
            }
        }

        public static func synthetic(_ kind: String) -> DisplayImage {
            let n = 512 * 512
            switch kind {
            case "uniform-black": return try! DisplayImage(width: 512, height: 512, pixels: .init(repeating: 0, count: n))
            case "uniform-gray": return try! DisplayImage(width: 512, height: 512, pixels: .init(repeating: 0.5, count: n))
            default:
                var s: UInt64 = kind == "noise-1" ? 1 : 2
                return try! DisplayImage(width: 512, height: 512, pixels: (0..<n).map { _ in
                    s = s &* 6364136223846793005 &+ 1442695040888963407
                    return Float(s >> 40) / Float(1 << 24)
                })
            }
        }
    }
}
