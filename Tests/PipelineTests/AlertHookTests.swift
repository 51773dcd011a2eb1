import Foundation
import Logging
import Store
import Testing
@testable import Pipeline

@Suite struct AlertHookTests {
    /// A hook script that appends its alert environment to a file next to it.
    static func recordingHook(in dir: URL, exitStatus: Int = 0) throws -> (hook: URL, record: URL) {
        let hook = dir.appendingPathComponent("hook.sh"), record = dir.appendingPathComponent("alerts.txt")
        let script = """
            #!/bin/sh
            echo "$BRIXIA_ALERT_RULE|$BRIXIA_ALERT_VALUE|$BRIXIA_STUDY_UID|$BRIXIA_PATIENT_ID|$BRIXIA_ANALYSIS_VERSION|$BRIXIA_GLOBAL_SCORE" >> "\(record.path)"
            exit \(exitStatus)
            """
        try Data(script.utf8).write(to: hook)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook.path)
        return (hook, record)
    }

    @Test func theHookRunsOncePerFiredAlertWithTheAlertInItsEnvironment() async throws {
        let ws = try Workspace()
        let (hook, record) = try Self.recordingHook(in: ws.root)
        ws.config.alertHook = hook
        ws.config.alertRules = [try AlertRule(spec: "global>=12"), try AlertRule(spec: "rise>=3")]
        // First exam global 6: no alert. Second exam global 15: both rules fire.
        try ws.drop(FakeInstance.make(study: "8.1", sop: "8.1.1", date: "20200301", grades: [1, 1, 1, 1, 1, 1]), as: "a.dcm")
        #expect(try await ws.runner().runOnce().isClean)
        #expect(!FileManager.default.fileExists(atPath: record.path), "no alert, no hook run")
        try ws.drop(FakeInstance.make(study: "8.2", sop: "8.2.1", date: "20200305", grades: [3, 3, 3, 2, 2, 2]), as: "b.dcm")
        #expect(try await ws.runner().runOnce().isClean)
        let lines = try String(contentsOf: record, encoding: .utf8).split(separator: "\n").map(String.init).sorted()
        #expect(lines.count == 2)
        #expect(lines.contains { $0.hasPrefix("global>=12|15|8.2|") && $0.hasSuffix("|1|15") })
        #expect(lines.contains { $0.hasPrefix("rise>=3|") && $0.contains("|8.2|") })
    }

    @Test func aFailingOrHangingHookNeverFailsTheStudy() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-hook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let alert = FiredAlert(rule: "global>=12", value: 14, message: "global 14 >= 12")
        let log = Logger(label: "test")

        let failing = try Self.recordingHook(in: dir, exitStatus: 3).hook
        let r1 = AlertHook(executable: failing).run(alert: alert, study: "1.2", patientID: "P", version: 1, global: 14, log: log)
        #expect(r1.exitStatus == 3 && !r1.succeeded)

        let sleeper = dir.appendingPathComponent("sleep.sh")
        try Data("#!/bin/sh\nsleep 30\n".utf8).write(to: sleeper)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sleeper.path)
        let started = Date()
        let r2 = AlertHook(executable: sleeper, timeout: 0.5).run(alert: alert, study: "1.2", patientID: "P", version: 1, global: 14, log: log)
        #expect(r2.timedOut)
        #expect(Date().timeIntervalSince(started) < 20)

        let r3 = AlertHook(executable: dir.appendingPathComponent("missing")).run(alert: alert, study: "1.2", patientID: "P", version: 1, global: 14, log: log)
        #expect(r3.launchError != nil)
    }

    @Test func hooksRunOffTheCallersPathInOrderAndDrainWaitsForThem() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-hookq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let record = dir.appendingPathComponent("rec.txt"), release = dir.appendingPathComponent("release")
        // Each hook waits until `release` exists. Were `submit` to run the hook on the caller's path, the first
        // hook would never see `release` (created only after both submits return) and would be stopped at its
        // timeout without writing "end".
        let script = dir.appendingPathComponent("hook.sh")
        try Data("""
            #!/bin/sh
            echo "start $BRIXIA_STUDY_UID" >> "\(record.path)"
            while [ ! -e "\(release.path)" ]; do sleep 0.05; done
            echo "end $BRIXIA_STUDY_UID" >> "\(record.path)"
            """.utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let hook = AlertHook(executable: script, timeout: 20)
        let alert = FiredAlert(rule: "global>=12", value: 14, message: "global 14 >= 12")
        let queue = AlertHookQueue()
        queue.submit(hook, alert: alert, study: "1", patientID: "P", version: 1, global: 14, log: Logger(label: "test"))
        queue.submit(hook, alert: alert, study: "2", patientID: "P", version: 1, global: 14, log: Logger(label: "test"))
        FileManager.default.createFile(atPath: release.path, contents: nil)
        queue.drain()
        let lines = try String(contentsOf: record, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == ["start 1", "end 1", "start 2", "end 2"], "one at a time, in order, all delivered by drain")
    }

    @Test func aConfiguredHookMustBeExecutable() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-hookcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var flags = ConfigOverrides()
        flags["alertHook"] = dir.appendingPathComponent("nope.sh").path
        #expect(throws: ConfigError.self) {
            _ = try ConfigResolver.resolve(flags: flags, configPath: nil, environment: [:], currentDirectory: dir)
        }
        let (hook, _) = try Self.recordingHook(in: dir)
        let c = try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: nil,
                                           environment: ["BRIXIA_ALERT_HOOK": hook.path], currentDirectory: dir)
        #expect(c.alertHook?.path == hook.path)
    }
}
