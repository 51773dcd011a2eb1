import BrixiaDomain
import Store

/// Terminal renderings of a trend (the JSON form is `StoreJSON.encode(trend)`).
enum TrendText {
    /// One line per exam: date, study, zones, global, delta, label, alerts.
    static func table(_ trend: PatientTrend) -> String {
        var lines = ["#   date                 A B C D E F  global  delta  trend     study / alerts"]
        for (i, exam) in trend.exams.enumerated() {
            let zones = Zone.allCases.map { String(exam.zones[$0]) }.joined(separator: " ")
            let delta = exam.delta.map { $0 > 0 ? "+\($0)" : "\($0)" } ?? "-"
            lines.append("\(pad(String(i + 1), 3)) \(pad(exam.date ?? "undated", 20)) \(zones)  "
                         + "\(lpad(String(exam.global), 6))  \(lpad(delta, 5))  \(pad(exam.trend.rawValue, 9)) \(exam.studyInstanceUID)")
            for alert in exam.alerts { lines.append(String(repeating: " ", count: 59) + "ALERT \(alert.rule): \(alert.message)") }
        }
        return lines.joined(separator: "\n")
    }

    /// The global score (0-18, vertical) of each dated exam in date order (horizontal), newest `maxExams` only.
    static func chart(_ trend: PatientTrend, maxExams: Int = 60) -> String {
        let dated = trend.exams.filter { $0.date != nil }
        let shown = Array(dated.suffix(maxExams))
        guard !shown.isEmpty else { return "(no dated exams to chart)" }
        let offset = dated.count - shown.count
        let width = max(3, String(dated.count).count + 1)
        let point = " ●" + String(repeating: " ", count: width - 2)
        let blank = String(repeating: " ", count: width)
        let base = String(repeating: "─", count: width)
        var lines = ["Global Brixia score over time" + (shown.count < dated.count ? " (last \(shown.count) of \(dated.count) exams)" : "")]
        for level in stride(from: 18, through: 0, by: -1) {
            var row = lpad(String(level), 2) + (level % 3 == 0 ? " ┤" : " │")
            for exam in shown { row += exam.global == level ? point : (level == 0 ? base : blank) }
            lines.append(row)
        }
        var axis = "   └"
        var labels = "    "
        for i in shown.indices {
            axis += String(repeating: "─", count: width)
            labels += lpad(String(offset + i + 1), width - 1) + " "
        }
        lines.append(axis)
        lines.append(labels)
        let first = shown.first?.date ?? "", last = shown.last?.date ?? ""
        lines.append("    exam numbers as in the table above; \(first) ... \(last)")
        return lines.joined(separator: "\n")
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
}
