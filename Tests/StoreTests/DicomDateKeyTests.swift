import BrixiaDomain
import Testing
@testable import Store

@Suite struct DicomDateKeyTests {
    @Test func studyDateAndTime() {
        #expect(DicomDateKey.key(date: "20200301", time: "101500") == "20200301101500.000000")
        #expect(DicomDateKey.key(date: "20200301", time: "1015") == "20200301101500.000000")
        #expect(DicomDateKey.key(date: "20200301", time: "10") == "20200301100000.000000")
        #expect(DicomDateKey.key(date: "20200301", time: "101500.12") == "20200301101500.120000")
        #expect(DicomDateKey.key(date: "2020.03.01", time: "10:15:00") == "20200301101500.000000")
        #expect(DicomDateKey.key(date: "20200301", time: nil) == "20200301")
        #expect(DicomDateKey.key(date: "20200301", time: "garbage") == "20200301")
        #expect(DicomDateKey.key(date: nil, time: "101500") == nil)
        #expect(DicomDateKey.key(date: "20201301", time: nil) == nil)
        #expect(DicomDateKey.key(date: "2020031", time: nil) == nil)
    }

    @Test func dateTimeValues() {
        #expect(DicomDateKey.key(dateTime: "20200305083000.000000+0100") == "20200305083000.000000")
        #expect(DicomDateKey.key(dateTime: "20200305-0500") == "20200305")
        #expect(DicomDateKey.key(dateTime: "2020") == nil)
        #expect(DicomDateKey.key(day: "2020-03-04") == "20200304")
    }

    @Test func ordering() {
        // Date-only sorts before timed exams of the same day, and days sort chronologically.
        let keys = [DicomDateKey.key(date: "20200302", time: "0800")!, DicomDateKey.key(date: "20200301", time: nil)!,
                    DicomDateKey.key(date: "20200301", time: "2300")!]
        #expect(keys.sorted() == ["20200301", "20200301230000.000000", "20200302080000.000000"])
        #expect(DicomDateKey.display("20200301230000.000000") == "2020-03-01T23:00:00")
        #expect(DicomDateKey.display("20200301") == "2020-03-01")
    }
}
