import Foundation
import Store

/// One exam as the charts draw it.
struct ChartExam: Sendable {
    var label: String          // date (or "undated")
    var global: Int            // 0-18
    var zones: [Int]           // A...F, 0-3
    var alert: Bool
    /// A newer analysis version replaced the first one (re-scored): marked on the chart.
    var amended: Bool
}

/// SVG drawn by Brixia (no script, no external resources): the trend of the global score with per-zone
/// grades, and the six-zone diagram of one exam. Colours work on dark backgrounds; every figure has a
/// text title for screen readers.
enum Charts {
    static let gradeColors = ["#2e7d32", "#f9a825", "#ef6c00", "#c62828"]  // 0 none ... 3 severe

    static func esc(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&#39;"
            default: o.append(c)
            }
        }
        return o
    }

    /// Global score (0-18) over the exams in date order, alert markers (red ring + "!"), amended exams
    /// ("amended" label), and below it one row per zone with the grade of each exam as a coloured cell.
    static func trendSVG(_ exams: [ChartExam], title: String) -> String {
        let n = max(exams.count, 1)
        // Room on the left for the axis and zone labels, on the right for the last date label.
        let left = 80.0, inset = 40.0, right = 60.0, top = 40.0, plotH = 260.0
        let step = 110.0
        let width = left + inset + right + step * Double(n - 1)
        let zoneTop = top + plotH + 60, cell = 26.0
        let height = zoneTop + cell * 6 + 60
        func x(_ i: Int) -> Double { left + inset + step * Double(i) }
        func y(_ g: Int) -> Double { top + plotH * (1 - Double(g) / 18) }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" class="trend" role="img" viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" height="\(Int(height))" aria-labelledby="trend-title">
            <title id="trend-title">\(esc(title))</title>
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#111"/>
            <text x="\(Int(left))" y="24" fill="#ddd" font-size="18">Global Brixia score (0-18)</text>

            """
        for g in stride(from: 0, through: 18, by: 3) {
            s += "<line x1=\"\(left - 6)\" y1=\"\(y(g))\" x2=\"\(width - right)\" y2=\"\(y(g))\" stroke=\"#333\"/>"
            s += "<text x=\"\(left - 12)\" y=\"\(y(g) + 6)\" fill=\"#bbb\" font-size=\"16\" text-anchor=\"end\">\(g)</text>\n"
        }
        if exams.count > 1 {
            let pts = exams.indices.map { "\(x($0)),\(y(exams[$0].global))" }.joined(separator: " ")
            s += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"#64b5f6\" stroke-width=\"3\"/>\n"
        }
        for (i, e) in exams.enumerated() {
            let cx = x(i), cy = y(e.global)
            s += "<g class=\"exam\(e.alert ? " alert" : "")\(e.amended ? " amended" : "")\">"
            s += "<title>\(esc(e.label)): global \(e.global)\(e.alert ? ", alert" : "")\(e.amended ? ", amended" : "")</title>"
            if e.alert {
                s += "<circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"13\" fill=\"none\" stroke=\"#ff5252\" stroke-width=\"3\"/>"
                s += "<text x=\"\(cx + 16)\" y=\"\(cy - 10)\" fill=\"#ff5252\" font-size=\"20\" font-weight=\"bold\">!</text>"
            }
            s += "<circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"7\" fill=\"#64b5f6\"/>"
            s += "<text x=\"\(cx)\" y=\"\(cy - 16)\" fill=\"#fff\" font-size=\"16\" text-anchor=\"middle\">\(e.global)</text>"
            s += "<text x=\"\(cx)\" y=\"\(top + plotH + 24)\" fill=\"#ccc\" font-size=\"14\" text-anchor=\"middle\">\(esc(e.label))</text>"
            if e.amended {
                s += "<text x=\"\(cx)\" y=\"\(top + plotH + 42)\" fill=\"#ffb74d\" font-size=\"13\" text-anchor=\"middle\">amended</text>"
            }
            s += "</g>\n"
        }
        // Per-zone grades: rows A-F, one cell per exam.
        s += "<text x=\"\(Int(left))\" y=\"\(zoneTop - 10)\" fill=\"#ddd\" font-size=\"16\">Zone grades (0-3)</text>\n"
        for (zi, zone) in ["A", "B", "C", "D", "E", "F"].enumerated() {
            let ry = zoneTop + cell * Double(zi)
            s += "<text x=\"\(left - 12)\" y=\"\(ry + 19)\" fill=\"#bbb\" font-size=\"16\" text-anchor=\"end\">\(zone)</text>"
            for (i, e) in exams.enumerated() {
                let g = max(0, min(3, e.zones[zi]))
                s += "<rect x=\"\(x(i) - 20)\" y=\"\(ry + 2)\" width=\"40\" height=\"\(cell - 4)\" fill=\"\(gradeColors[g])\"/>"
                s += "<text x=\"\(x(i))\" y=\"\(ry + 19)\" fill=\"#fff\" font-size=\"15\" text-anchor=\"middle\">\(g)</text>"
            }
            s += "\n"
        }
        return s + "</svg>"
    }

    /// The six zones as seen on a frontal image: the patient's right lung (A-C) on the viewer's left.
    static func zoneDiagramSVG(zones: [Int], title: String) -> String {
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" class="zones" role="img" viewBox="0 0 220 250" width="220" height="250" aria-labelledby="z-\(abs(title.hashValue))">
            <title id="z-\(abs(title.hashValue))">\(esc(title))</title>
            <rect x="0" y="0" width="220" height="250" fill="#111"/>
            <text x="55" y="20" fill="#bbb" font-size="13" text-anchor="middle">R</text>
            <text x="165" y="20" fill="#bbb" font-size="13" text-anchor="middle">L</text>

            """
        for (i, zone) in ["A", "B", "C", "D", "E", "F"].enumerated() {
            let col = i < 3 ? 0 : 1, row = i % 3
            let g = max(0, min(3, zones.count > i ? zones[i] : 0))
            let x = 15 + col * 110, y = 30 + row * 70
            s += "<rect class=\"zone zone-\(zone)\" x=\"\(x)\" y=\"\(y)\" width=\"80\" height=\"62\" rx=\"10\" fill=\"\(gradeColors[g])\"/>"
            s += "<text x=\"\(x + 40)\" y=\"\(y + 40)\" fill=\"#fff\" font-size=\"22\" text-anchor=\"middle\">\(zone) \(g)</text>\n"
        }
        return s + "</svg>"
    }
}
