import Foundation
import Testing
@testable import Reports

/// Writes example outputs for people and docs when BRIXIA_REPORTS_SAMPLE_DIR is set:
///   BRIXIA_REPORTS_SAMPLE_DIR=/tmp/brixia-sample swift test --filter ReportsTests.SampleOutput
@Suite("SampleOutput")
struct SampleOutput {
    static let dir = ProcessInfo.processInfo.environment["BRIXIA_REPORTS_SAMPLE_DIR"]

    @Test(.enabled(if: SampleOutput.dir != nil, "set BRIXIA_REPORTS_SAMPLE_DIR to write example outputs"))
    func writeSamples() throws {
        let url = URL(fileURLWithPath: Self.dir!)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let w = ReportWriter()
        _ = try w.writeSR(Fixtures.input(withPrior: true), to: url)
        _ = try w.writeSR(Fixtures.input(withPrior: false), to: url)
        _ = try w.writeSecondaryCapture(Fixtures.input(withPrior: true), trend: Fixtures.trend, to: url)
        try w.writePNG(Fixtures.input(withPrior: true), trend: Fixtures.trend, to: url.appendingPathComponent("report-example.png"))
    }
}

extension SampleOutput {
    @Test(.enabled(if: SampleOutput.dir != nil, "set BRIXIA_REPORTS_SAMPLE_DIR to write example outputs"))
    func writeFirstExamSample() throws {
        let url = URL(fileURLWithPath: Self.dir!)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        var input = Fixtures.input(withPrior: false)
        input.patient.name = "MÜLLER^JÖRG"
        try ReportWriter().writePNG(input, trend: [], to: url.appendingPathComponent("report-first-exam.png"))
    }
}
