import Foundation
import Testing
@testable import Reports

@Suite("Failures")
struct FailureTests {
    @Test func missingDirectoryIsTyped() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-missing-\(UUID().uuidString)")
        #expect {
            try ReportWriter().writeSR(Fixtures.input(withPrior: false), to: dir)
        } throws: { e in
            guard case let .directoryMissing(path, _) = e as? ReportError else { return false }
            return path == dir.path
        }
    }

    @Test func vanishedDirectoryIsTyped() throws {
        let dir = try Fixtures.tempDir()
        try FileManager.default.removeItem(at: dir)     // the directory existed and then vanished
        #expect {
            try ReportWriter().writeSecondaryCapture(Fixtures.input(withPrior: false), trend: Fixtures.trend, to: dir)
        } throws: { e in
            guard case let .directoryMissing(path, detail) = e as? ReportError else { return false }
            return path == dir.path && detail.contains(dir.path)
        }
    }

    /// A directory this process cannot write: chmod 555 normally; root ignores modes, so use /sys there.
    static func unwritableDirectory() throws -> (URL, cleanup: () -> Void)? {
        if geteuid() != 0 {
            let dir = try Fixtures.tempDir()
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir.path)
            return (dir, { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
                           try? FileManager.default.removeItem(at: dir) })
        }
        let sys = URL(fileURLWithPath: "/sys")
        let probe = sys.appendingPathComponent("brixia-probe")
        if FileManager.default.createFile(atPath: probe.path, contents: Data()) {
            try? FileManager.default.removeItem(at: probe)
            return nil
        }
        return (sys, {})
    }

    @Test func unwritableDirectoryIsTyped() throws {
        guard let (dir, cleanup) = try Self.unwritableDirectory() else {
            Issue.record("no unwritable directory available on this machine"); return
        }
        defer { cleanup() }
        for write in [{ try ReportWriter().writeSR(Fixtures.input(withPrior: true), to: dir) },
                      { try ReportWriter().writeSecondaryCapture(Fixtures.input(withPrior: true), trend: [], to: dir) }] {
            #expect {
                _ = try write()
            } throws: { e in
                guard case let .notWritable(path, detail) = e as? ReportError else { return false }
                return path == dir.path && detail.contains(dir.path)
            }
        }
    }

    @Test func targetIsAFile() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("plain.txt")
        try Data("x".utf8).write(to: file)
        #expect(throws: ReportError.self) { try ReportWriter().writeSR(Fixtures.input(withPrior: false), to: file) }
    }

    @Test func inconsistentScoresAreRejectedBeforeWriting() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        var bad = Fixtures.input(withPrior: false)
        bad.scores.global = 12
        #expect(throws: ReportError.invalidInput(field: "scores.global", reason: "12 != sum of zone grades 11")) {
            try ReportWriter().writeSR(bad, to: dir)
        }
        var missingZone = Fixtures.input(withPrior: false)
        missingZone.scores.zones.removeLast()
        #expect(throws: ReportError.self) { try ReportWriter().writeSR(missingZone, to: dir) }
        var badGrade = Fixtures.input(withPrior: false)
        badGrade.scores.zones[0].grade = 4
        #expect(throws: ReportError.self) { try ReportWriter().writeSR(badGrade, to: dir) }
        var badUID = Fixtures.input(withPrior: false)
        badUID.study.studyInstanceUID = "1.2.abc"
        #expect(throws: ReportError.self) { try ReportWriter().writeSecondaryCapture(badUID, trend: [], to: dir) }
        var changeWithoutPrior = Fixtures.input(withPrior: false)
        changeWithoutPrior.change = ScoreChange(delta: 1, trend: .worse)
        #expect(throws: ReportError.self) { try ReportWriter().writeSR(changeWithoutPrior, to: dir) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
