/// Image-content check before a score is reported (issue #14 item 2): is this a frontal chest radiograph with
/// the right polarity, judged from BS-Net's own lung segmentation and the preprocessed image it saw?
/// The header cannot tell a rendering saved as CR, a lying MONOCHROME1 tag or a mislabelled lateral; the
/// network's segmentation of two plausible lungs, darker than the mediastinum, can. Thresholds and how
/// they were checked: docs/quality-check.md.
public enum QualityCheck {
    /// Each bound is the most extreme value over the calibration set (all 144 images of ../shared/data/cohen,
    /// shipped model) widened by 0.05 and rounded outwards: the loosest rule that accepts every calibration image,
    /// plus a fixed margin. The held-out positives (data/opacity, data/dicom) and every negative were judged
    /// with these values unchanged (docs/quality-check.md). Cohen extremes in brackets.
    public struct Thresholds: Sendable, Equatable {
        /// Probability above which a pixel counts as lung.
        public var lungProbability: Float = 0.5
        /// Both lungs together, as a fraction of the 512x512 frame [0.168, 0.517].
        public var minLungFraction = 0.11, maxLungFraction = 0.57
        /// Each of the two lungs, as a fraction of the frame [0.073].
        public var minSingleLungFraction = 0.02
        /// Smaller lung area / larger lung area [0.485].
        public var minSymmetry = 0.43
        /// The two largest regions hold at least this share of all lung pixels [0.624].
        public var minLargestTwoShare = 0.57
        /// Lung centroids: vertical position within the frame [0.214, 0.616], mean of the two [<= 0.547],
        /// vertical distance [<= 0.201].
        public var centroidYRange: ClosedRange<Double> = 0.16...0.67
        public var maxMeanCentroidY = 0.60
        public var maxCentroidYGap = 0.26
        /// Side by side: horizontal distance between the centroids [0.267], where their midpoint lies
        /// [0.422, 0.763].
        public var minCentroidSeparation = 0.21
        public var midpointXRange: ClosedRange<Double> = 0.37...0.82
        /// Each lung's bounding-box height, as a fraction of the frame [0.383].
        public var minLungHeight = 0.33
        /// Mean equalised intensity of the mediastinum minus that of the lungs (lungs darker) [0.174].
        public var minPolarityMargin = 0.12
        /// At most this share of the 512x512 input on one gray level (flat backgrounds of renderings, uniform
        /// images) [0.383, from black borders].
        public var maxModeShare = 0.44
        public init() {}
    }

    /// What was measured; every field is reported by `brixia score --json` and `brixia dev qc-eval`.
    public struct Measures: Sendable, Equatable {
        public var lungFraction: Double
        public var rightLungFraction: Double   // image left = patient's right
        public var leftLungFraction: Double
        public var symmetry: Double
        public var largestTwoShare: Double
        public var rightCentroid: (x: Double, y: Double)
        public var leftCentroid: (x: Double, y: Double)
        public var lungMean: Double
        public var mediastinumMean: Double
        public var polarityMargin: Double { mediastinumMean - lungMean }
        public var modeShare: Double
        /// Per lung (image left = patient's right, then left): where its mass lies within its bounding box,
        /// (centroid y - box centre y) / box height: > 0 when the lung is wider at the base than at the apex, as
        /// upright lungs are; < 0 upside down.
        public var massOffsets: (right: Double, left: Double) = (0, 0)
        /// Per lung: bounding-box height as a fraction of the frame.
        public var heights: (right: Double, left: Double) = (0, 0)

        public init(lungFraction: Double, rightLungFraction: Double, leftLungFraction: Double, symmetry: Double,
                    largestTwoShare: Double, rightCentroid: (x: Double, y: Double), leftCentroid: (x: Double, y: Double),
                    lungMean: Double, mediastinumMean: Double, modeShare: Double) {
            self.lungFraction = lungFraction; self.rightLungFraction = rightLungFraction; self.leftLungFraction = leftLungFraction
            self.symmetry = symmetry; self.largestTwoShare = largestTwoShare; self.rightCentroid = rightCentroid
            self.leftCentroid = leftCentroid; self.lungMean = lungMean; self.mediastinumMean = mediastinumMean
            self.modeShare = modeShare
        }

        public static func == (a: Measures, b: Measures) -> Bool {
            a.lungFraction == b.lungFraction && a.symmetry == b.symmetry && a.lungMean == b.lungMean
                && a.mediastinumMean == b.mediastinumMean && a.modeShare == b.modeShare
                && a.rightCentroid == b.rightCentroid && a.leftCentroid == b.leftCentroid
        }
    }

    public struct Result: Sendable, Equatable {
        public var measures: Measures
        /// Empty when the image passed; else one line per failed rule (the first is the reason shown).
        public var failures: [String]
        public var passed: Bool { failures.isEmpty }
        /// "image-content check failed: ..." or nil.
        public var reason: String? { failures.first.map { "image-content check failed: \($0)" } }
    }

    public static let side = 512

    /// `segmentation`: BS-Net's lung probability map (512*512, row-major, before alignment); `input`: the
    /// preprocessed model input it was computed from (512*512, [0,1]).
    public static func check(segmentation: [Float], input: [Float], thresholds t: Thresholds = .init()) -> Result {
        let n = side * side
        precondition(segmentation.count == n && input.count == n, "QualityCheck needs 512x512 maps")
        let (comps, labels) = components(segmentation.map { $0 > t.lungProbability })
        let total = comps.reduce(0) { $0 + $1.area }
        let two = Array(comps.sorted { $0.area > $1.area }.prefix(2)).sorted { $0.cx < $1.cx }
        let a = two.first, b = two.count > 1 ? two[1] : nil
        let fn = Double(n)
        var m = Measures(lungFraction: Double(two.reduce(0) { $0 + $1.area }) / fn,
                         rightLungFraction: Double(a?.area ?? 0) / fn, leftLungFraction: Double(b?.area ?? 0) / fn,
                         symmetry: 0, largestTwoShare: total == 0 ? 0 : Double(two.reduce(0) { $0 + $1.area }) / Double(total),
                         rightCentroid: (a?.cx ?? 0, a?.cy ?? 0), leftCentroid: (b?.cx ?? 0, b?.cy ?? 0),
                         lungMean: 0, mediastinumMean: 0, modeShare: modeShare(input))
        if let a, let b {
            m.symmetry = Double(min(a.area, b.area)) / Double(max(a.area, b.area))
            func offset(_ c: Component) -> Double {
                let h = Double(c.maxY - c.minY + 1)
                return (c.cy * Double(side) - 0.5 - Double(c.minY + c.maxY) / 2) / h
            }
            m.massOffsets = (offset(a), offset(b))
            m.heights = (Double(a.maxY - a.minY + 1) / Double(side), Double(b.maxY - b.minY + 1) / Double(side))
        }
        let (lungMean, medMean) = polarity(input: input, lungs: two, labels: labels)
        m.lungMean = lungMean; m.mediastinumMean = medMean
        return verdict(m, thresholds: t)
    }

    /// The rules applied to measured values (separate so that a recorded evaluation can be re-judged).
    public static func verdict(_ m: Measures, thresholds t: Thresholds = .init()) -> Result {
        var f: [String] = []
        func pct(_ v: Double) -> String { String(format: "%.1f %%", v * 100) }
        func num(_ v: Double) -> String { String(format: "%.2f", v) }
        if m.modeShare > t.maxModeShare {
            f.append("\(pct(m.modeShare)) of the image is one flat gray level (max \(pct(t.maxModeShare))): a rendering, a blank or a non-radiograph")
        }
        if m.rightLungFraction < t.minSingleLungFraction || m.leftLungFraction < t.minSingleLungFraction {
            f.append("two lungs not found (largest regions \(pct(m.rightLungFraction)) and \(pct(m.leftLungFraction)) of the frame, min \(pct(t.minSingleLungFraction)) each)")
        } else {
            if m.lungFraction < t.minLungFraction || m.lungFraction > t.maxLungFraction {
                f.append("lung area \(pct(m.lungFraction)) of the frame outside \(pct(t.minLungFraction))-\(pct(t.maxLungFraction))")
            }
            if m.symmetry < t.minSymmetry {
                f.append("lungs not symmetric (area ratio \(num(m.symmetry)), min \(num(t.minSymmetry)))")
            }
            if m.largestTwoShare < t.minLargestTwoShare {
                f.append("lung segmentation scattered (two largest regions hold \(pct(m.largestTwoShare)) of it, min \(pct(t.minLargestTwoShare)))")
            }
            let ys = [m.rightCentroid.y, m.leftCentroid.y]
            let separation = m.leftCentroid.x - m.rightCentroid.x, midpoint = (m.leftCentroid.x + m.rightCentroid.x) / 2
            if !ys.allSatisfy({ t.centroidYRange.contains($0) }) || abs(ys[0] - ys[1]) > t.maxCentroidYGap
                || (ys[0] + ys[1]) / 2 > t.maxMeanCentroidY
                || separation < t.minCentroidSeparation || !t.midpointXRange.contains(midpoint) {
                f.append("lungs not where a frontal chest has them (centroids at x \(num(m.rightCentroid.x)), \(num(m.leftCentroid.x)); y \(num(ys[0])), \(num(ys[1])))")
            }
            if min(m.heights.right, m.heights.left) < t.minLungHeight {
                f.append("lungs too short for a chest radiograph (heights \(pct(m.heights.right)) and \(pct(m.heights.left)) of the frame, min \(pct(t.minLungHeight)))")
            }
            if m.polarityMargin < t.minPolarityMargin {
                f.append("lungs not darker than the mediastinum (lung mean \(num(m.lungMean)), mediastinum \(num(m.mediastinumMean)), min difference \(num(t.minPolarityMargin))): inverted display, e.g. a wrong MONOCHROME1 tag")
            }
        }
        return Result(measures: m, failures: f)
    }

    // MARK: parts

    struct Component { var id: Int32; var area: Int; var cx: Double; var cy: Double; var minX: Int; var maxX: Int; var minY: Int; var maxY: Int }

    /// 4-connected regions of the mask (iterative flood fill).
    static func components(_ mask: [Bool]) -> (components: [Component], labels: [Int32]) {
        let s = side
        var label = [Int32](repeating: 0, count: s * s)
        var out: [Component] = []
        var stack: [Int] = []
        for start in 0..<(s * s) where mask[start] && label[start] == 0 {
            var c = Component(id: Int32(out.count + 1), area: 0, cx: 0, cy: 0, minX: s, maxX: -1, minY: s, maxY: -1)
            var sx = 0, sy = 0
            label[start] = Int32(out.count + 1)
            stack.append(start)
            while let p = stack.popLast() {
                let x = p % s, y = p / s
                c.area += 1; sx += x; sy += y
                c.minX = min(c.minX, x); c.maxX = max(c.maxX, x); c.minY = min(c.minY, y); c.maxY = max(c.maxY, y)
                func visit(_ q: Int) {
                    if mask[q] && label[q] == 0 { label[q] = c.id; stack.append(q) }
                }
                if x > 0 { visit(p - 1) }
                if x < s - 1 { visit(p + 1) }
                if y > 0 { visit(p - s) }
                if y < s - 1 { visit(p + s) }
            }
            c.cx = (Double(sx) / Double(c.area) + 0.5) / Double(s)
            c.cy = (Double(sy) / Double(c.area) + 0.5) / Double(s)
            out.append(c)
        }
        return (out, label)
    }

    /// Mean input over the two lungs' pixels, and in the mediastinum: the columns between the lungs over the
    /// rows both span (the middle 10 % of the frame when they touch or overlap).
    static func polarity(input: [Float], lungs: [Component], labels: [Int32]) -> (Double, Double) {
        let s = side
        guard lungs.count == 2 else { return (0, 0) }
        let a = lungs[0], b = lungs[1]
        var x0 = a.maxX + 1, x1 = b.minX - 1
        if x1 - x0 < 4 { x0 = s * 45 / 100; x1 = s * 55 / 100 }
        var y0 = max(a.minY, b.minY), y1 = min(a.maxY, b.maxY)
        if y1 - y0 < 4 { y0 = s * 30 / 100; y1 = s * 70 / 100 }
        var ms = 0.0, mc = 0
        for y in y0...y1 { for x in x0...x1 { ms += Double(input[y * s + x]); mc += 1 } }
        var ls = 0.0, lc = 0
        for (i, l) in labels.enumerated() where l == a.id || l == b.id { ls += Double(input[i]); lc += 1 }
        return (ls / Double(max(1, lc)), ms / Double(max(1, mc)))
    }

    /// Share of the most frequent of 4096 gray levels.
    static func modeShare(_ input: [Float]) -> Double {
        var h = [Int](repeating: 0, count: 4096)
        for v in input { h[Int((min(max(v, 0), 1) * 4095).rounded())] += 1 }
        return Double(h.max() ?? 0) / Double(max(1, input.count))
    }
}
