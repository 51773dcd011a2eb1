import DicomKit
import Foundation
import Logging
import Testing
@testable import Pipeline

/// Hostile DICOM files through the real DicomKitInspector: each is quarantined at intake with its precise reason
/// in `.reason.txt`, nothing is scored, and no job is left to retry (issue #13).
@Suite struct HostileInputIntakeTests {
    /// Explicit VR LE element.
    static func el(_ g: UInt16, _ e: UInt16, _ vr: String, _ value: [UInt8]) -> [UInt8] {
        var b = [UInt8(g & 0xFF), UInt8(g >> 8), UInt8(e & 0xFF), UInt8(e >> 8)] + Array(vr.utf8)
        if ["OB", "OW"].contains(vr) { b += [0, 0] + withUnsafeBytes(of: UInt32(value.count).littleEndian, Array.init) } else {
            b += [UInt8(value.count & 0xFF), UInt8(value.count >> 8)]
        }
        return b + value
    }
    static func s(_ v: String, pad: UInt8 = 0x20) -> [UInt8] { let b = Array(v.utf8); return b.count % 2 == 1 ? b + [pad] : b }
    static func us(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

    /// An eligible frontal DX image, with some header values replaced.
    static func dicom(sop: String, study: String = "2.25.77", patientName: [UInt8] = Array("TEST^P".utf8),
                      rows: UInt16 = 256, cols: UInt16 = 256, pixelBytes: Int? = nil) -> Data {
        let meta = el(2, 1, "OB", [0, 1]) + el(2, 2, "UI", s("1.2.840.10008.5.1.4.1.1.1.1", pad: 0)) + el(2, 3, "UI", s(sop, pad: 0))
            + el(2, 0x10, "UI", s("1.2.840.10008.1.2.1", pad: 0))
        var ds = el(8, 0x16, "UI", s("1.2.840.10008.5.1.4.1.1.1.1", pad: 0)) + el(8, 0x18, "UI", s(sop, pad: 0))
        ds += el(8, 0x60, "CS", s("DX")) + el(0x10, 0x10, "PN", patientName + (patientName.count % 2 == 1 ? [0x20] : []))
        ds += el(0x10, 0x20, "LO", s("PID-7")) + el(0x18, 0x5101, "CS", s("PA"))
        ds += el(0x20, 0x0D, "UI", s(study, pad: 0)) + el(0x20, 0x0E, "UI", s("2.25.78", pad: 0))
        ds += el(0x28, 2, "US", us(1)) + el(0x28, 4, "CS", s("MONOCHROME2")) + el(0x28, 0x10, "US", us(rows))
        ds += el(0x28, 0x11, "US", us(cols)) + el(0x28, 0x100, "US", us(16)) + el(0x28, 0x101, "US", us(12))
        ds += el(0x28, 0x102, "US", us(11)) + el(0x28, 0x103, "US", us(0))
        ds += el(0x7FE0, 0x10, "OW", [UInt8](repeating: 0x10, count: pixelBytes ?? Int(rows) * Int(cols) * 2))
        return Data([UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
                    + el(2, 0, "UL", withUnsafeBytes(of: UInt32(meta.count).littleEndian, Array.init)) + meta + ds)
    }

    @Test func hostileFilesAreQuarantinedAtIntakeWithTheReason() async throws {
        let ws = try Workspace()
        // 250 bytes: over 200, and "<name>.reason.txt" would exceed NAME_MAX: the quarantine shortens the name.
        let longName = String(repeating: "n", count: 246) + ".dcm"
        try ws.drop(Self.dicom(sop: "2.25.1", rows: 65535, cols: 65535, pixelBytes: 1024), as: "bomb.dcm")
        try ws.drop(Self.dicom(sop: "2.25.2", study: ".."), as: "dots.dcm")
        // DCMTK drops the line break and space from a UI value; a PN keeps its escape character (below).
        try ws.drop(Self.dicom(sop: "2.25.3", study: "1.2.3a\nreason: forged"), as: "letter.dcm")
        try ws.drop(Self.dicom(sop: "2.25.4", patientName: Array("EVIL\u{1B}[2J^X".utf8)), as: "name.dcm")
        try ws.drop(Self.dicom(sop: "2.25.5"), as: longName)
        // The same image under a plain name passes the real inspector: the rejections above are the header values.
        let plain = try ws.drop(Self.dicom(sop: "2.25.5"), as: "plain.dcm")
        guard try DicomKitInspector().inspect(file: plain).eligibility.eligible else { Issue.record("plain.dcm not eligible"); return }
        try FileManager.default.removeItem(at: plain)
        let deps = PipelineDependencies(inspector: DicomKitInspector(), scorer: ws.scorer, reports: ws.sink, store: ws.store,
                                        fileWriter: ws.writer, now: { Date(timeIntervalSince1970: 1_700_000_000) })
        var log = Logger(label: "test"); log.logLevel = .critical
        func runner() -> PipelineRunner { PipelineRunner(engine: PipelineEngine(config: ws.config, dependencies: deps, logger: log), logger: log) }
        let summary = try await runner().runOnce()
        #expect(summary.filesQuarantined == 5)
        #expect(summary.studiesProcessed == 0 && summary.studiesFailed == 0)
        #expect(ws.scorer.scored.isEmpty)
        #expect(ws.inboxFiles().isEmpty)
        func reason(_ name: String) throws -> String {
            try String(contentsOf: ws.config.quarantine.appendingPathComponent(FileOps.boundedName(name) + ".reason.txt"), encoding: .utf8)
        }
        let expected: [(String, String)] = [
            ("bomb.dcm", "reason: unreadable: pixel data too short: declared 65535x65535x1 16-bit = 8.0 GiB but Pixel Data holds 1.0 KiB\n"),
            ("dots.dcm", "reason: not eligible: the reports could not be written: StudyInstanceUID '..' is not a valid UID: component 1 is empty\n"),
            ("letter.dcm", "reason: not eligible: the reports could not be written: StudyInstanceUID '1.2.3areason:forged' is not a valid UID: component 3 has the non-digit 'a'\n"),
            ("name.dcm", "reason: not eligible: the reports could not be written: PatientName 'EVIL\\u{1B}[2J^X' contains the control character \\u{1B}\n"),
            (longName, "reason: not eligible: the reports could not be written: file name is 250 bytes long, more than 200\n"),
        ]
        for (name, line) in expected {
            let text = try reason(name)
            #expect(text.contains(line), "\(name): \(text)")
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "\(name): control character in \(text)")
            #expect(text.components(separatedBy: "\n").filter { $0.hasPrefix("reason:") }.count == 1, "\(name): forged line in \(text)")
        }
        // Nothing is left to retry: the next pass has no work.
        let again = try await runner().runOnce()
        #expect(again.filesQuarantined == 0 && again.studiesProcessed == 0 && again.studiesFailed == 0, "\(again)")
        #expect(ws.files(ws.config.quarantine).count == 10)
        #expect(FileOps.boundedName(longName).utf8.count <= 200)
    }
}
