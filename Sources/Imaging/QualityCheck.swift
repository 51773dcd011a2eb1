/// Image-content check before a score is reported (issue #14 item 2): is this a frontal chest radiograph with
/// the right polarity, judged from BS-Net's own lung segmentation and the preprocessed image it saw?
/// The header cannot tell a rendering saved as CR, a lying MONOCHROME1 tag or a mislabelled lateral; the
/// network's segmentation of two plausible lungs, darker than the mediastinum, can. Thresholds and how
/// they were checked: docs/quality-check.md.
public enum QualityCheck {
    /// Each bound is the most extreme value over the calibration set (the 222 real frontal radiographs of
    /// ../shared/data/cohen and ../shared/data/opacity, shipped model) widened by 0.05 and rounded outwards:
    /// `derivedThresholds(from:)`, the loosest rule that accepts every calibration image, plus a fixed margin.
    /// The data/dicom positives and every negative were judged with these values unchanged; leave-one-out
    /// estimates the rate for unseen radiographs (docs/quality-check.md). Calibration extremes in brackets.
    public struct Thresholds: Sendable, Equatable {
        /// Probability above which a pixel counts as lung.
        public var lungProbability: Float = 0.5
        /// Both lungs together, as a fraction of the 512x512 frame [0.168, 0.543].
        public var minLungFraction = 0.11, maxLungFraction = 0.60
        /// Each of the two lungs, as a fraction of the frame [0.073].
        public var minSingleLungFraction = 0.02
        /// Smaller lung area / larger lung area [0.429: a lung largely opacified at its base].
        public var minSymmetry = 0.37
        /// The two largest regions hold at least this share of all lung pixels [0.624].
        public var minLargestTwoShare = 0.57
        /// Lung centroids: vertical position within the frame [0.214, 0.616], mean of the two [<= 0.547],
        /// vertical distance [<= 0.201].
        public var centroidYRange: ClosedRange<Double> = 0.16...0.67
        public var maxMeanCentroidY = 0.60
        public var maxCentroidYGap = 0.26
        /// Side by side: horizontal distance between the centroids [0.267], where their midpoint lies
        /// [0.421, 0.763].
        public var minCentroidSeparation = 0.21
        public var midpointXRange: ClosedRange<Double> = 0.37...0.82
        /// Each lung's bounding-box height, as a fraction of the frame [0.383].
        public var minLungHeight = 0.33
        /// Mean equalised intensity of the mediastinum minus that of the lungs (lungs darker) [0.174].
        public var minPolarityMargin = 0.12
        /// Each lung on its own darker than the mediastinum: `Measures.singleLungMargin` [0.143].
        public var minSingleLungMargin = 0.09
        /// At most this share of the 512x512 input on one gray level (flat backgrounds of renderings, uniform
        /// images) [0.383, from black borders].
        public var maxModeShare = 0.44
        /// Up from down (a 180-degree rotation keeps area, symmetry and position): `Measures.uprightness`, the
        /// lungs' bases lateral to their apices plus the gap between them widening towards the heart [-0.362].
        public var minUprightness = -0.42
        /// Below this uprightness the image is also segmented turned by 180 degrees (one more forward pass) and
        /// rejected when the turned image is a chest by every one-image rule and more upright by more than
        /// `maxTurnedAdvantage` [0.126, over the 10 of 28 positives whose turned version is such a chest].
        /// Uprightness changes sign when an image is turned, so a chest that is upright either way cannot
        /// exceed 0.25 in both.
        public var pairedCheckBelow = 0.25
        public var maxTurnedAdvantage = 0.18
        /// Below this polarity margin the image is also segmented with its gray levels inverted (one more forward
        /// pass), and rejected when the inverted image is a chest by every one-image rule whose lungs are darker
        /// than its mediastinum by more than `maxInvertedAdvantage` over the image as given: a lying
        /// MONOCHROME1 tag [-0.067, over the 2 of 123 positives whose inverted version is such a chest: real
        /// chests are darker-lunged as given]. 0.40 is a cost, not a verdict: the pass can only refuse an image
        /// whose inverted version is a chest, so it runs wherever inverted copies were seen to pass the one-image
        /// rules (margins up to 0.33), for 55 % of real images (docs/quality-check.md).
        public var pairedPolarityBelow = 0.40
        public var maxInvertedAdvantage = -0.01
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
        /// Mean gap between the lungs over the lower third of the rows both span minus that over the upper third,
        /// as a fraction of the frame: > 0 upright (the heart is wider than the upper mediastinum).
        public var heartWidening: Double = 0
        /// Per lung: how far the mean x of its lowest tenth of rows lies outside that of its highest tenth, as a
        /// fraction of its box width: > 0 upright (the costophrenic angle is lateral, the apex medial).
        public var baseLaterality: (right: Double, left: Double) = (0, 0)
        /// Mean base laterality + 2 x heart widening: > 0 upright, < 0 upside down. One measure rather than two
        /// because either part alone is sometimes negative on real upright chests (a lung whose base the
        /// network cut short, a narrow heart); the weight 2 was fixed before its separation was measured.
        public var uprightness: Double { (baseLaterality.right + baseLaterality.left) / 2 + 2 * heartWidening }
        /// The same image turned by 180 degrees, measured, when the paired orientation check ran.
        public var turned: Alternative?
        /// The same image with its gray levels inverted, measured, when the paired polarity check ran.
        public var inverted: Alternative?
        public var turnedUprightness: Double? { turned?.measures.uprightness }
        public var invertedPolarityMargin: Double? { inverted?.measures.polarityMargin }
        /// Pixels the network is unsure about (probability 0.1-0.9) per lung pixel: a crisp segmentation has only
        /// a thin boundary band; out-of-distribution inputs give wide fuzzy regions.
        public var uncertainShare: Double = 0
        /// Mean lung probability over the two lungs' pixels.
        public var lungConfidence: Double = 0
        /// Mean input over a 12-pixel ring around the two lungs (ribs, soft tissue, mediastinum, diaphragm) minus
        /// the lung mean: > 0 when the lungs are darker than what surrounds them.
        public var ringMargin: Double = 0
        /// Smaller / larger summed lung probability on the two sides of the midpoint between the lungs: like
        /// `symmetry`, but counting lung the network is unsure about (opacified) in proportion.
        public var massSymmetry: Double = 0
        /// Per lung (image left = patient's right, then left): mean equalised input over its pixels.
        public var lungMeans: (right: Double, left: Double) = (0, 0)
        /// Mediastinum mean minus the brighter lung's mean: > 0 when each lung on its own is darker than the
        /// mediastinum. `polarityMargin` averages the two lungs, so a bright region (a shoulder, the soft tissue
        /// of an image cropped inside the chest) paired with a real lung apex can pass it; this cannot.
        public var singleLungMargin: Double { mediastinumMean - max(lungMeans.right, lungMeans.left) }

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

    /// The measures of another version of the image (turned or inverted); a class because `Measures` holds it.
    public final class Alternative: Sendable {
        public let measures: Measures
        public init(_ measures: Measures) { self.measures = measures }
        /// The other version passes every one-image rule: it is a plausible chest on its own.
        public func isChest(_ t: Thresholds) -> Bool { QualityCheck.verdict(measures, thresholds: t).passed }
    }

    public struct Result: Sendable, Equatable {
        public var measures: Measures
        /// Empty when the image passed; else one line per failed rule (the first is the reason shown).
        public var failures: [String]
        /// The bounds it was judged by (the model's).
        public var thresholds: Thresholds
        public var passed: Bool { failures.isEmpty }
        /// "image-content check failed: ..." or nil.
        public var reason: String? { failures.first.map { "image-content check failed: \($0)" } }
    }

    public static let side = 512

    /// `segmentation`: BS-Net's lung probability map (512*512, row-major, before alignment); `input`: the
    /// preprocessed model input it was computed from (512*512, [0,1]).
    /// The one-image rules only (no paired orientation check).
    public static func check(segmentation: [Float], input: [Float], thresholds t: Thresholds = .init()) -> Result {
        verdict(measure(segmentation: segmentation, input: input, thresholds: t), thresholds: t)
    }

    /// Every rule, including the paired checks: `segment` runs the network's segmentation on another input,
    /// the 180-degree turn of `input` when its uprightness is ambiguous, and `input` with inverted gray levels
    /// when its polarity is. `diagnostics` also computes the measures no rule uses (uncertain share, lung
    /// confidence, ring margin) for `brixia dev qc-eval`; scoring leaves them 0.
    public static func check(segmentation: [Float], input: [Float], thresholds t: Thresholds = .init(),
                             diagnostics: Bool = false, segment: ([Float]) throws -> [Float]) rethrows -> Result {
        var m = measure(segmentation: segmentation, input: input, thresholds: t, diagnostics: diagnostics)
        guard m.rightLungFraction >= t.minSingleLungFraction, m.leftLungFraction >= t.minSingleLungFraction else {
            return verdict(m, thresholds: t)
        }
        if m.uprightness < t.pairedCheckBelow {
            let turned = Array(input.reversed())   // row-major 512x512: reversing is the 180-degree turn
            m.turned = Alternative(measure(segmentation: try segment(turned), input: turned, thresholds: t))
        }
        if m.polarityMargin < t.pairedPolarityBelow {
            let inverted = input.map { 1 - $0 }
            m.inverted = Alternative(measure(segmentation: try segment(inverted), input: inverted, thresholds: t))
        }
        return verdict(m, thresholds: t)
    }

    static func measure(segmentation: [Float], input: [Float], thresholds t: Thresholds, diagnostics: Bool = false) -> Measures {
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
            (m.heartWidening, m.baseLaterality) = orientation(a, b, labels: labels)
        }
        let (lungMean, medMean, perLung) = polarity(input: input, lungs: two, labels: labels)
        m.lungMean = lungMean; m.mediastinumMean = medMean; m.lungMeans = perLung
        if diagnostics && two.count == 2 {
            (m.uncertainShare, m.lungConfidence, m.ringMargin) = texture(segmentation, input, two, labels, lungMean)
            let mid = Int(((two[0].cx + two[1].cx) / 2 * Double(side)).rounded())
            var sides = (0.0, 0.0)
            for y in 0..<side {
                for x in 0..<side { if x < mid { sides.0 += Double(segmentation[y * side + x]) } else { sides.1 += Double(segmentation[y * side + x]) } }
            }
            m.massSymmetry = min(sides.0, sides.1) / max(sides.0, sides.1, 1e-9)
        }
        return m
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
            if m.uprightness < t.minUprightness {
                f.append("upside down? the lungs' bases are not lateral to their apices and the gap between them does not widen towards the heart (uprightness \(num(m.uprightness)): base shifts \(num(m.baseLaterality.right)), \(num(m.baseLaterality.left)), heart widening \(num(m.heartWidening)); min \(num(t.minUprightness)))")
            }
            // The other version counts only when it is itself a chest by every one-image rule: the turned or
            // inverted version of an upside-down or inverted chest is the real chest and passes them, that of a
            // real chest (however white its lungs) is not a chest and rarely does.
            if let alt = m.turned, alt.measures.uprightness - m.uprightness > t.maxTurnedAdvantage, alt.isChest(t) {
                f.append("upside down? turned by 180 degrees the image is a chest by every other rule and more upright (uprightness \(num(m.uprightness)) as given, \(num(alt.measures.uprightness)) turned; max advantage \(num(t.maxTurnedAdvantage)))")
            }
            if let alt = m.inverted, alt.measures.polarityMargin - m.polarityMargin > t.maxInvertedAdvantage, alt.isChest(t) {
                f.append("inverted? with its gray levels inverted the image is a chest by every other rule, with lungs clearly darker than the mediastinum (polarity margin \(num(m.polarityMargin)) as given, \(num(alt.measures.polarityMargin)) inverted; max advantage \(num(t.maxInvertedAdvantage))): e.g. a wrong MONOCHROME1 tag")
            }
            if m.polarityMargin < t.minPolarityMargin {
                f.append("lungs not darker than the mediastinum (lung mean \(num(m.lungMean)), mediastinum \(num(m.mediastinumMean)), min difference \(num(t.minPolarityMargin))): inverted display, e.g. a wrong MONOCHROME1 tag")
            } else if m.singleLungMargin < t.minSingleLungMargin {
                f.append("one of the two lung regions is not darker than the mediastinum (lung means \(num(m.lungMeans.right)), \(num(m.lungMeans.left)), mediastinum \(num(m.mediastinumMean)), min difference \(num(t.minSingleLungMargin))): not a frontal chest, e.g. a shoulder or an image cropped inside the chest")
            }
        }
        return Result(measures: m, failures: f, thresholds: t)
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

    /// The two orientation measures of `Measures` (`a` is the lung on the image's left).
    static func orientation(_ a: Component, _ b: Component, labels: [Int32]) -> (Double, (Double, Double)) {
        let s = side
        var aMax = [Int](repeating: -1, count: s), bMin = [Int](repeating: s, count: s)
        var sumX = [[Int]](repeating: [Int](repeating: 0, count: s), count: 2), cnt = sumX
        for y in 0..<s {
            for x in 0..<s {
                let l = labels[y * s + x]
                if l == a.id { aMax[y] = x; sumX[0][y] += x; cnt[0][y] += 1 }
                else if l == b.id { if bMin[y] == s { bMin[y] = x }; sumX[1][y] += x; cnt[1][y] += 1 }
            }
        }
        var heart = 0.0
        let y0 = max(a.minY, b.minY), y1 = min(a.maxY, b.maxY)
        if y1 - y0 >= 5 {
            let third = (y1 - y0 + 1) / 3
            func meanGap(_ rows: ClosedRange<Int>) -> Double? {
                let g = rows.filter { aMax[$0] >= 0 && bMin[$0] < s }.map { Double(bMin[$0] - aMax[$0]) }
                return g.isEmpty ? nil : g.reduce(0, +) / Double(g.count)
            }
            if let up = meanGap(y0...(y0 + third - 1)), let low = meanGap((y1 - third + 1)...y1) { heart = (low - up) / Double(s) }
        }
        func base(_ c: Component, _ k: Int, outward: Double) -> Double {
            let band = max(1, (c.maxY - c.minY + 1) / 10)
            func meanX(_ rows: ClosedRange<Int>) -> Double {
                let n = rows.reduce(0) { $0 + cnt[k][$1] }
                return n == 0 ? 0 : Double(rows.reduce(0) { $0 + sumX[k][$1] }) / Double(n)
            }
            let top = meanX(c.minY...(c.minY + band - 1)), bottom = meanX((c.maxY - band + 1)...c.maxY)
            return outward * (bottom - top) / Double(c.maxX - c.minX + 1)
        }
        return (heart, (base(a, 0, outward: -1), base(b, 1, outward: 1)))
    }

    /// uncertainShare, lungConfidence and ringMargin of `Measures`.
    static func texture(_ seg: [Float], _ input: [Float], _ lungs: [Component], _ labels: [Int32], _ lungMean: Double) -> (Double, Double, Double) {
        let s = side, r = 12
        var uncertain = 0, lungPixels = 0, pSum = 0.0
        var inLung = [Bool](repeating: false, count: s * s)
        for i in 0..<(s * s) {
            if seg[i] > 0.1 && seg[i] < 0.9 { uncertain += 1 }
            if labels[i] == lungs[0].id || labels[i] == lungs[1].id { inLung[i] = true; lungPixels += 1; pSum += Double(seg[i]) }
        }
        // Dilate by r (separable max over a square), then the ring is dilated minus lung.
        var rows = [Bool](repeating: false, count: s * s)
        for y in 0..<s {
            var lastSeen = -10 * s
            for x in 0..<s { if inLung[y * s + x] { lastSeen = x }; if x - lastSeen <= r { rows[y * s + x] = true } }
            lastSeen = 10 * s
            for x in stride(from: s - 1, through: 0, by: -1) { if inLung[y * s + x] { lastSeen = x }; if lastSeen - x <= r { rows[y * s + x] = true } }
        }
        var ringSum = 0.0, ringCount = 0
        for x in 0..<s {
            var near = [Bool](repeating: false, count: s)
            var lastSeen = -10 * s
            for y in 0..<s { if rows[y * s + x] { lastSeen = y }; if y - lastSeen <= r { near[y] = true } }
            lastSeen = 10 * s
            for y in stride(from: s - 1, through: 0, by: -1) { if rows[y * s + x] { lastSeen = y }; if lastSeen - y <= r { near[y] = true } }
            for y in 0..<s where near[y] && !inLung[y * s + x] && seg[y * s + x] <= 0.5 { ringSum += Double(input[y * s + x]); ringCount += 1 }
        }
        let n = Double(max(1, lungPixels))
        return (Double(uncertain) / n, pSum / n, ringCount == 0 ? 0 : ringSum / Double(ringCount) - lungMean)
    }

    /// Mean input over the two lungs' pixels, in the mediastinum (the columns between the lungs over the
    /// rows both span; the middle 10 % of the frame when they touch or overlap), and over each lung.
    static func polarity(input: [Float], lungs: [Component], labels: [Int32]) -> (Double, Double, (Double, Double)) {
        let s = side
        guard lungs.count == 2 else { return (0, 0, (0, 0)) }
        let a = lungs[0], b = lungs[1]
        var x0 = a.maxX + 1, x1 = b.minX - 1
        if x1 - x0 < 4 { x0 = s * 45 / 100; x1 = s * 55 / 100 }
        var y0 = max(a.minY, b.minY), y1 = min(a.maxY, b.maxY)
        if y1 - y0 < 4 { y0 = s * 30 / 100; y1 = s * 70 / 100 }
        var ms = 0.0, mc = 0
        for y in y0...y1 { for x in x0...x1 { ms += Double(input[y * s + x]); mc += 1 } }
        var sa = 0.0, ca = 0, sb = 0.0, cb = 0
        for (i, l) in labels.enumerated() {
            if l == a.id { sa += Double(input[i]); ca += 1 } else if l == b.id { sb += Double(input[i]); cb += 1 }
        }
        return ((sa + sb) / Double(max(1, ca + cb)), ms / Double(max(1, mc)),
                (sa / Double(max(1, ca)), sb / Double(max(1, cb))))
    }

    /// Share of the most frequent of 4096 gray levels.
    static func modeShare(_ input: [Float]) -> Double {
        var h = [Int](repeating: 0, count: 4096)
        for v in input { h[Int((min(max(v, 0), 1) * 4095).rounded())] += 1 }
        return Double(h.max() ?? 0) / Double(max(1, input.count))
    }
}
