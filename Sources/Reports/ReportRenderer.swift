import BrixiaDomain
import Foundation

/// Draws the one-page Brixia report (1024 x 768 RGB) used for both the Secondary Capture and the PNG.
/// Layout is described in docs/reports.md.
enum ReportRenderer {
    typealias C = RGBImage.Color
    static let width = 1024, height = 768
    static let white = C(r: 255, g: 255, b: 255), black = C(r: 20, g: 20, b: 20), grey = C(r: 110, g: 110, b: 110)
    static let lightGrey = C(r: 225, g: 225, b: 225), header = C(r: 22, g: 46, b: 84), alertRed = C(r: 198, g: 40, b: 40)
    static let warnYellow = C(r: 255, g: 214, b: 0)

    /// Grade colours: 0 green, 1 yellow, 2 orange, 3 dark red.
    static func gradeColor(_ g: Int) -> C {
        switch g {
        case 0: C(r: 76, g: 175, b: 80)
        case 1: C(r: 255, g: 214, b: 0)
        case 2: C(r: 245, g: 124, b: 0)
        default: C(r: 150, g: 20, b: 20)
        }
    }

    static func render(_ input: ReportInput, trend: [TrendPoint]) -> RGBImage {
        var img = RGBImage(width: width, height: height, background: white)
        drawHeader(&img)
        drawIdentifiers(&img, input)
        drawLungs(&img, input.scores, x: 24, y: 186)
        drawScores(&img, input, x: 520, y: 186)
        drawTrend(&img, mergedTrend(input, trend), currentDate: input.study.date, x: 520, y: 420, w: 480, h: 230)
        drawFooter(&img, input)
        if let a = input.amendment { drawAmendment(&img, a) }
        return img
    }

    /// One red line above the footer: an amended report says so, and why, on the image itself.
    static func drawAmendment(_ img: inout RGBImage, _ a: ReportAmendment) {
        img.text("AMENDED REPORT: \(a.reason)", x: 20, y: height - 128, .bold16, alertRed, maxWidth: 984)
    }

    static func drawHeader(_ img: inout RGBImage) {
        img.fill(x: 0, y: 0, w: width, h: 56, header)
        img.text("Brixia score report", x: 20, y: 13, .bold26, white)
        let warn = "AI GENERATED - NOT FOR DIAGNOSTIC USE"
        img.text(warn, x: width - 20 - BitmapFont.face(.bold16).width(warn), y: 19, .bold16, warnYellow)
    }

    static func drawIdentifiers(_ img: inout RGBImage, _ input: ReportInput) {
        let p = input.patient, s = input.study
        img.text("Patient: \(ReportText.name(p.name))", x: 20, y: 68, .bold16, black, maxWidth: 480)
        var id = "ID: \(ReportText.text(p.id))"
        if let issuer = p.issuer, !issuer.isEmpty { id += " (\(ReportText.text(issuer)))" }
        img.text(id, x: 20, y: 92, .regular16, black, maxWidth: 480)
        img.text("Sex: \(p.sex ?? "-")   Birth date: \(DicomDateTime.display(p.birthDate).isEmpty ? "-" : DicomDateTime.display(p.birthDate))",
                 x: 20, y: 116, .regular16, black, maxWidth: 480)
        img.text("Study date: \(DicomDateTime.display(s.date))  \(displayTime(s.time))", x: 520, y: 68, .regular16, black, maxWidth: 484)
        img.text("Accession: \(ReportText.text(s.accessionNumber ?? "-"))   \(input.source.modality) \(input.source.viewPosition ?? "")",
                 x: 520, y: 92, .regular16, black, maxWidth: 484)
        if let d = s.description, !d.isEmpty { img.text("Study: \(ReportText.text(d))", x: 520, y: 116, .regular16, black, maxWidth: 484) }
        img.text("Study UID: \(s.studyInstanceUID)", x: 20, y: 142, .regular13, grey, maxWidth: 984)
        img.fill(x: 20, y: 166, w: width - 40, h: 2, lightGrey)
    }

    static func displayTime(_ t: String?) -> String {
        guard let t, t.count >= 4 else { return "" }
        let a = Array(t)
        return "\(String(a[0..<2])):\(String(a[2..<4]))"
    }

    /// Two lungs in radiological display (patient's right on the viewer's left), three zones each.
    static func drawLungs(_ img: inout RGBImage, _ scores: BrixiaScores, x: Int, y: Int) {
        img.text("Zone grades", x: x, y: y, .bold16, black)
        img.text("(patient's right shown on the left)", x: x + 124, y: y + 2, .regular13, grey)
        let top = y + 34, lungH = 330, rx = 92
        let centers = [x + 125, x + 355]     // viewer's left = right lung
        for (side, cx) in centers.enumerated() {
            let zones: [Zone] = side == 0 ? [.A, .B, .C] : [.D, .E, .F]
            let cy = top + lungH / 2, ry = lungH / 2
            for yy in top..<(top + lungH) {
                let dy = Double(yy - cy) / Double(ry)
                // Superellipse-ish lung outline, flatter on the medial side and widest near the base.
                let half = Double(rx) * pow(max(0, 1 - pow(abs(dy), 2.4)), 1 / 2.4) * (0.82 + 0.18 * (dy + 1) / 2)
                let band = min(2, (yy - top) * 3 / lungH)
                let grade = scores.grade(zones[band]) ?? 0
                let medialFlat = side == 0 ? (cx - Int(half), cx + Int(half * 0.8)) : (cx - Int(half * 0.8), cx + Int(half))
                for xx in medialFlat.0...medialFlat.1 { img.blend(xx, yy, gradeColor(grade), 255) }
                img.fill(x: medialFlat.0 - 2, y: yy, w: 2, h: 1, black)
                img.fill(x: medialFlat.1 + 1, y: yy, w: 2, h: 1, black)
            }
            for k in 1...2 { img.fill(x: cx - rx - 4, y: top + k * lungH / 3 - 1, w: 2 * rx + 8, h: 2, black) }
            for (band, zone) in zones.enumerated() {
                let grade = scores.grade(zone) ?? 0
                let ink = grade == 3 ? white : black
                let zy = top + band * lungH / 3 + lungH / 6 - 24
                img.textCentered(zone.rawValue, cx: cx, y: zy, .bold26, ink)
                img.textCentered("grade \(grade)", cx: cx, y: zy + 30, .regular16, ink)
            }
            img.textCentered(side == 0 ? "R" : "L", cx: cx, y: top + lungH + 6, .bold26, black)
        }
        // Legend.
        let ly = top + lungH + 44
        var lx = x
        for g in 0...3 {
            img.fill(x: lx, y: ly, w: 18, h: 18, gradeColor(g)); img.strokeRect(x: lx, y: ly, w: 18, h: 18, black)
            lx += 24 + img.text(["0 none", "1 interstitial", "2 inter.+alveolar", "3 alveolar dominant"][g], x: lx + 24, y: ly + 2, .regular13, black) + 14
        }
    }

    static func drawScores(_ img: inout RGBImage, _ input: ReportInput, x: Int, y: Int) {
        let s = input.scores
        img.text("Global Brixia score", x: x, y: y, .bold16, black)
        let big = "\(s.global) / 18"
        img.fill(x: x, y: y + 26, w: 150, h: 44, gradeColor(s.global >= 12 ? 3 : s.global >= 7 ? 2 : s.global >= 1 ? 1 : 0))
        img.textCentered(big, cx: x + 75, y: y + 34, .bold26, s.global >= 12 ? white : black)
        let zones = Zone.allCases.map { "\($0.rawValue)\(s.grade($0) ?? 0)" }.joined(separator: " ")
        img.text("Zones: \(zones)", x: x + 168, y: y + 28, .regular16, black)
        if let c = s.confidence {
            // Calibrated (docs/model-card.md): the study figure is the expected share of correct zone grades.
            let perZone = Zone.allCases.compactMap { z in
                s.zones.first { $0.zone == z }?.confidence.map { String(format: "%@ %.2f", z.rawValue, $0) }
            }.joined(separator: " ")
            let low = input.alerts.contains(.lowConfidence)
            img.text(String(format: "Confidence %.2f%@", c, low ? " (LOW)" : ""), x: x + 168, y: y + 48, .bold16,
                     low ? alertRed : black)
            if !perZone.isEmpty { img.text(perZone, x: x + 168, y: y + 68, .regular13, black) }
        }
        var ly = y + 86
        if let prior = input.prior {
            var line = "Prior \(DicomDateTime.display(prior.studyDate)): \(prior.global) / 18"
            if let ch = input.change {
                line += String(format: "   change %+d (%@)", ch.delta, ch.trend.rawValue)
                img.text(line, x: x, y: ly, .bold16, ch.trend == .worse ? alertRed : black)
            } else {
                img.text(line, x: x, y: ly, .bold16, black)
            }
        } else {
            img.text("No prior exam: change not available", x: x, y: ly, .regular16, grey)
        }
        ly += 28
        for a in input.alerts.prefix(4) {
            img.fill(x: x, y: ly + 3, w: 10, h: 10, alertRed)
            img.text("ALERT: \(a.meaning)", x: x + 16, y: ly, .bold16, alertRed, maxWidth: 468)
            ly += 24
        }
        if input.alerts.count > 4 { img.text("+\(input.alerts.count - 4) more alerts (see SR)", x: x + 16, y: ly, .regular16, alertRed) }
    }

    /// The caller's history plus the current exam if it is not already in it, sorted by date.
    static func mergedTrend(_ input: ReportInput, _ points: [TrendPoint]) -> [TrendPoint] {
        var pts = points.filter { DicomDateTime.isDate($0.date) }
        if let d = input.study.date, !pts.contains(where: { $0.date == d }) {
            pts.append(TrendPoint(date: d, global: input.scores.global))
        }
        return pts.sorted { $0.date < $1.date }
    }

    static func dayNumber(_ yyyymmdd: String) -> Int {
        let a = Array(yyyymmdd).compactMap { $0.wholeNumberValue }
        guard a.count == 8 else { return 0 }
        var c = DateComponents(); c.year = a[0] * 1000 + a[1] * 100 + a[2] * 10 + a[3]
        c.month = a[4] * 10 + a[5]; c.day = a[6] * 10 + a[7]
        var cal = Calendar(identifier: .gregorian); cal.timeZone = TimeZone(identifier: "UTC")!
        guard let date = cal.date(from: c) else { return 0 }
        return Int(date.timeIntervalSince1970 / 86400)
    }

    static func drawTrend(_ img: inout RGBImage, _ pts: [TrendPoint], currentDate: String?, x: Int, y: Int, w: Int, h: Int) {
        img.text("Global score over time", x: x, y: y - 26, .bold16, black)
        let left = x + 34, right = x + w - 20, top = y + 8, bottom = y + h - 34
        for v in stride(from: 0, through: 18, by: 6) {
            let yy = bottom - (bottom - top) * v / 18
            img.fill(x: left, y: yy, w: right - left, h: 1, lightGrey)
            let label = String(v)
            img.text(label, x: left - 8 - BitmapFont.face(.regular13).width(label), y: yy - 8, .regular13, grey)
        }
        img.fill(x: left, y: top, w: 1, h: bottom - top + 1, black)
        img.fill(x: left, y: bottom, w: right - left, h: 1, black)
        guard !pts.isEmpty else {
            img.textCentered("no score history", cx: (left + right) / 2, y: (top + bottom) / 2 - 8, .regular16, grey)
            return
        }
        let days = pts.map { dayNumber($0.date) }
        let d0 = days.min()!, d1 = days.max()!
        func px(_ i: Int) -> Int {
            d1 == d0 ? (left + right) / 2 : left + 16 + (right - left - 32) * (days[i] - d0) / (d1 - d0)
        }
        func py(_ v: Int) -> Int { bottom - (bottom - top) * min(18, max(0, v)) / 18 }
        for i in 1..<max(1, pts.count) { img.line(px(i - 1), py(pts[i - 1].global), px(i), py(pts[i].global), header, thickness: 3) }
        var lastLabelRight = Int.min
        for (i, p) in pts.enumerated() {
            let isCurrent = p.date == currentDate
            img.fillCircle(cx: px(i), cy: py(p.global), r: isCurrent ? 7 : 5, isCurrent ? alertRed : header)
            img.textCentered(String(p.global), cx: px(i), y: py(p.global) - 26, .bold16, isCurrent ? alertRed : black)
            let label = DicomDateTime.display(p.date)
            let lw = BitmapFont.face(.regular13).width(label)
            let lx = min(right - lw, max(left, px(i) - lw / 2))
            if lx > lastLabelRight + 6 || i == pts.count - 1 && lx > lastLabelRight {
                img.text(label, x: lx, y: bottom + 6, .regular13, isCurrent ? alertRed : grey)
                lastLabelRight = lx + lw
            }
        }
    }

    static func drawFooter(_ img: inout RGBImage, _ input: ReportInput) {
        let y = height - 96
        img.fill(x: 20, y: y - 8, w: width - 40, h: 2, lightGrey)
        let provenance = input.sourceProvenance.map { "   \($0.text)" } ?? ""
        img.text("Model: \(input.model.name) \(input.model.version)   Software: Brixia \(input.equipment.softwareVersion)\(provenance)",
                 x: 20, y: y, .regular13, input.sourceProvenance?.lossy == true ? alertRed : black, maxWidth: 984)
        img.text("Weights SHA-256: \(input.model.weightsSHA256)", x: 20, y: y + 18, .regular13, black)
        let (d, t) = DicomDateTime.split(input.created)
        img.text("Generated \(DicomDateTime.display(d)) \(displayTime(t))   Source image \(input.source.sopInstanceUID)",
                 x: 20, y: y + 36, .regular13, grey, maxWidth: 984)
        img.fill(x: 0, y: height - 34, w: width, h: 34, alertRed)
        img.textCentered("AI generated - not for diagnostic use. Not verified by a physician.", cx: width / 2,
                         y: height - 27, .bold16, white)
    }
}
