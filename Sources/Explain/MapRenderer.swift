import Foundation
import Reports

/// Draws the explainability maps over the model input: per-grade relevance, class map, strength map,
/// negative map, each with the lung contour and the Brixia zone grid, a legend and the AI disclaimer.
public enum MapRenderer {
    public typealias Color = RenderedImage.Color
    /// Class colours of the BS-Net paper: 0 green, 1 yellow, 2 red, 3 black.
    public static let gradeColors: [Color] = [Color(r: 0, g: 176, b: 80), Color(r: 255, g: 214, b: 0),
                                              Color(r: 220, g: 20, b: 20), Color(r: 0, g: 0, b: 0)]
    public static let disclaimer = "AI generated - not for diagnostic use"
    static let contour = Color(r: 0, g: 200, b: 255), grid = Color(r: 255, g: 255, b: 255)
    static let white = Color(r: 255, g: 255, b: 255), ink = Color(r: 20, g: 20, b: 20)
    static let headerBlue = Color(r: 22, g: 46, b: 84), warn = Color(r: 255, g: 214, b: 0)

    public enum Kind: Sendable, Equatable {
        case grade(Int), classes, strength, negative
        public var fileStem: String {
            switch self {
            case let .grade(c): "grade\(c)"
            case .classes: "class"
            case .strength: "strength"
            case .negative: "negative"
            }
        }
        var title: String {
            switch self {
            case let .grade(c): "Relevance for grade \(c)"
            case .classes: "Class map (grade with the largest relevance)"
            case .strength: "Strength map (largest relevance over grades)"
            case .negative: "Negative map (occlusion raised a grade)"
            }
        }
    }

    /// One 512-wide panel: title bar, the overlaid image, a legend and the disclaimer.
    /// - Parameter caption: a line under the image (e.g. which weights produced it).
    public static func panel(_ e: Explanation, kind: Kind, theta: [Float]? = nil, caption: String? = nil) -> RenderedImage {
        let n = e.size, top = 40
        let captionLines = caption.map { wrap($0, width: n - 16, font: .regular13) } ?? []
        let bottom = 64 + 18 * captionLines.count
        var img = RenderedImage(width: n, height: n + top + bottom, background: white)
        img.fill(x: 0, y: 0, w: n, h: top, headerBlue)
        img.text(kind.title, x: 8, y: 4, font: .bold16, white)
        img.text(disclaimer, x: 8, y: 22, font: .regular13, warn)
        drawOverlay(&img, e, kind: kind, x: 0, y: top, theta: theta)
        var ly = n + top + 8
        drawLegend(&img, kind: kind, x: 8, y: ly)
        ly += 26
        for line in captionLines { img.text(line, x: 8, y: ly, font: .regular13, ink); ly += 18 }
        img.text("Lung contour cyan; Brixia zone grid white, dashed.", x: 8, y: ly, font: .regular13, ink)
        return img
    }

    /// The Secondary Capture page: the image on the left, the class map (opacity = strength) on the right.
    public static func overlayPage(_ e: Explanation, theta: [Float]? = nil, modelLine: String, scoreLine: String) -> RenderedImage {
        let n = e.size, top = 56, bottom = 76
        var img = RenderedImage(width: 2 * n, height: n + top + bottom, background: white)
        img.fill(x: 0, y: 0, w: 2 * n, h: top, headerBlue)
        img.text("Brixia explainability map (super-pixel occlusion)", x: 12, y: 6, font: .bold16, white)
        img.text("AI GENERATED - NOT FOR DIAGNOSTIC USE", x: 12, y: 30, font: .bold16, warn)
        drawOverlay(&img, e, kind: nil, x: 0, y: top, theta: theta)
        drawOverlay(&img, e, kind: .classes, x: n, y: top, theta: theta)
        drawLegend(&img, kind: .classes, x: 12, y: n + top + 8)
        img.text(scoreLine, x: n + 12, y: n + top + 10, font: .regular13, ink)
        img.text(modelLine, x: 12, y: n + top + 34, font: .regular13, ink)
        img.text("Colour = grade whose probability fell most when the super-pixel was hidden; opacity = strength. " + disclaimer + ".",
                 x: 12, y: n + top + 54, font: .regular13, ink)
        return img
    }

    /// Gray image plus the map of `kind` (nil = image, contour and grid only).
    static func drawOverlay(_ img: inout RenderedImage, _ e: Explanation, kind: Kind?, x ox: Int, y oy: Int, theta: [Float]?) {
        let n = e.size
        let classMap = kind == .classes ? e.classMap : []
        let strength = kind == nil ? [] : e.strengthMap
        let values: [Float]
        if case let .grade(c)? = kind { values = e.gradeMap(c) } else { values = [] }
        let negative: [Float] = kind == .negative ? negativeStrength(e) : []
        for y in 0..<n {
            for x in 0..<n {
                let i = y * n + x
                let g = UInt8((min(max(e.input[i], 0), 1) * 255).rounded())
                img.blend(ox + x, oy + y, Color(r: g, g: g, b: g))
                switch kind {
                case let .grade(c)?:
                    let v = values[i]
                    if v > 0 { img.blend(ox + x, oy + y, gradeColors[c], alpha: Int(40 + 200 * v)) }
                case .classes?:
                    let c = classMap[i], s = strength[i]
                    if c >= 0 && s > 0 { img.blend(ox + x, oy + y, gradeColors[c], alpha: Int(60 + 180 * s)) }
                case .strength?:
                    let s = strength[i]
                    if s > 0 { img.blend(ox + x, oy + y, heat(s), alpha: Int(60 + 180 * s)) }
                case .negative?:
                    let s = negative[i]
                    if s > 0 { img.blend(ox + x, oy + y, Color(r: 40, g: 90, b: 255), alpha: Int(60 + 180 * s)) }
                case nil: break
                }
            }
        }
        // Lung contour: mask pixels with a 4-neighbour outside the mask.
        let m = e.lungMask
        for y in 0..<n {
            for x in 0..<n where m[y * n + x] {
                let edge = x == 0 || y == 0 || x == n - 1 || y == n - 1 || !m[y * n + x - 1] || !m[y * n + x + 1] || !m[(y - 1) * n + x] || !m[(y + 1) * n + x]
                if edge { img.blend(ox + x, oy + y, contour) }
            }
        }
        drawZoneGrid(&img, x: ox, y: oy, size: n, theta: theta ?? [1, 0, 0, 0, 1, 0])
    }

    /// Brixia zone grid of the aligned frame (rows [0,.4], [.3,.7], [.6,1], split at x = .5), drawn in the
    /// input frame through the STN transform (the identity for the reference weights).
    static func drawZoneGrid(_ img: inout RenderedImage, x ox: Int, y oy: Int, size n: Int, theta t: [Float]) {
        func map(_ fx: Double, _ fy: Double) -> (Int, Int) {
            let u = 2 * fx - 1, v = 2 * fy - 1
            let xs = Double(t[0]) * u + Double(t[1]) * v + Double(t[2])
            let ys = Double(t[3]) * u + Double(t[4]) * v + Double(t[5])
            return (ox + Int((0.5 * (xs + 1) * Double(n)).rounded()), oy + Int((0.5 * (ys + 1) * Double(n)).rounded()))
        }
        func seg(_ a: (Double, Double), _ b: (Double, Double)) {
            let p = map(a.0, a.1), q = map(b.0, b.1)
            // Dashed: 8 px on, 6 off, so the map underneath stays visible.
            let len = max(abs(q.0 - p.0), abs(q.1 - p.1), 1)
            for s in 0...len where s % 14 < 8 {
                let x = p.0 + (q.0 - p.0) * s / len, y = p.1 + (q.1 - p.1) * s / len
                if x >= ox && x < ox + n && y >= oy && y < oy + n { img.blend(x, y, grid, alpha: 220) }
            }
        }
        for fy in [0.35, 0.65] { seg((0, fy), (1, fy)) }
        seg((0.5, 0), (0.5, 1))
    }

    /// Greedy word wrap to `width` pixels.
    static func wrap(_ text: String, width: Int, font: RenderedImage.Font) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            let candidate = line.isEmpty ? String(word) : line + " " + word
            if RenderedImage.textWidth(candidate, font: font) > width && !line.isEmpty { lines.append(line); line = String(word) } else { line = candidate }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    static func negativeStrength(_ e: Explanation) -> [Float] {
        let s = e.maps.negative.map { $0.max() ?? 0 }
        return e.superPixels.labels.map { $0 > 0 ? s[Int($0) - 1] : 0 }
    }

    /// Black-red-yellow-white ramp.
    static func heat(_ v: Float) -> Color {
        let t = Double(min(max(v, 0), 1)) * 3
        func b(_ x: Double) -> UInt8 { UInt8(min(max(x, 0), 1) * 255) }
        return Color(r: b(t), g: b(t - 1), b: b(t - 2))
    }

    static func drawLegend(_ img: inout RenderedImage, kind: Kind, x: Int, y: Int) {
        var lx = x
        switch kind {
        case .classes, .grade:
            for g in 0...3 {
                img.fill(x: lx, y: y, w: 16, h: 16, gradeColors[g])
                img.strokeRect(x: lx, y: y, w: 16, h: 16, ink)
                lx += 22 + img.text("grade \(g)", x: lx + 22, y: y + 1, font: .regular13, ink) + 12
            }
        case .strength:
            for k in 0..<120 { img.fill(x: lx + k, y: y, w: 1, h: 16, heat(Float(k) / 119)) }
            img.text("low -> high relevance (max over grades)", x: lx + 130, y: y + 1, font: .regular13, ink)
        case .negative:
            img.fill(x: lx, y: y, w: 16, h: 16, Color(r: 40, g: 90, b: 255))
            img.text("hiding the super-pixel raised a grade's probability", x: lx + 22, y: y + 1, font: .regular13, ink)
        }
    }
}
