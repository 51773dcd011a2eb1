import BrixiaDomain
import Store
import Testing
@testable import brixia

/// The terminal renderings of `brixia trend` (the JSON form is the store's `PatientTrend`).
@Suite struct TrendTextTests {
    @Test func tableAndChartShowEveryExam() throws {
        let exams = [
            ExamScore(studyInstanceUID: "S1", sortKey: "20200301101500.000000", zones: try ZoneGrades(a: 1, b: 1, c: 0, d: 0, e: 0, f: 0)),
            ExamScore(studyInstanceUID: "S2", sortKey: "20200305101500.000000", zones: try ZoneGrades(a: 3, b: 3, c: 2, d: 2, e: 2, f: 2)),
        ]
        let trend = TrendCalculator.compute(patientID: "P1", exams: exams)
        let table = TrendText.table(trend)
        #expect(table.contains("2020-03-05T10:15:00"))
        #expect(table.contains("ALERT rise>=3"))
        let chart = TrendText.chart(trend).split(separator: "\n").map(String.init)
        // Row "14 │ ..." has the second point, row " 2 │ ..." the first.
        let row14 = try #require(chart.first { $0.hasPrefix("14 ") })
        let row2 = try #require(chart.first { $0.hasPrefix(" 2 ") })
        #expect(row14.firstIndex(of: "●").map { row14.distance(from: row14.startIndex, to: $0) } == 8)
        #expect(row2.firstIndex(of: "●").map { row2.distance(from: row2.startIndex, to: $0) } == 5)
        #expect(chart.filter { $0.contains("●") }.count == 2)
    }

    @Test func chartOfAnUndatedHistorySaysSo() {
        let trend = TrendCalculator.compute(patientID: "P1", exams: [
            ExamScore(studyInstanceUID: "S1", sortKey: nil, zones: try! ZoneGrades(a: 1, b: 0, c: 0, d: 0, e: 0, f: 0)),
        ])
        #expect(TrendText.chart(trend) == "(no dated exams to chart)")
        #expect(TrendText.table(trend).contains("undated"))
    }
}
