import Foundation
import Logging
import Store

/// Runs the configured alert hook once per fired alert, after the analysis is committed.
///
/// The hook gets the alert in environment variables (no patient name, only identifiers):
/// BRIXIA_ALERT_RULE, BRIXIA_ALERT_VALUE, BRIXIA_ALERT_MESSAGE, BRIXIA_STUDY_UID, BRIXIA_PATIENT_ID,
/// BRIXIA_ANALYSIS_VERSION, BRIXIA_GLOBAL_SCORE. It runs with a time limit and its failure is logged,
/// never failing the study: the alert is already recorded in the database, the log and the SR.
/// Delivery is at most once (a crash between the commit and the hook skips it). The pipeline runs hooks on
/// `AlertHookQueue`, off the scoring path: a slow hook (up to `timeout` each) delays later hooks, not studies.
public struct AlertHook: Sendable {
    public let executable: URL
    public let timeout: TimeInterval

    public init(executable: URL, timeout: TimeInterval = 30) {
        self.executable = executable
        self.timeout = timeout
    }

    public struct Outcome: Sendable, Equatable {
        public var exitStatus: Int32?
        public var timedOut: Bool
        public var launchError: String?
        public var succeeded: Bool { exitStatus == 0 && !timedOut && launchError == nil }
    }

    public func environment(for alert: FiredAlert, study: String, patientID: String, version: Int, global: Int) -> [String: String] {
        [
            "BRIXIA_ALERT_RULE": alert.rule, "BRIXIA_ALERT_VALUE": "\(alert.value)", "BRIXIA_ALERT_MESSAGE": alert.message,
            "BRIXIA_STUDY_UID": study, "BRIXIA_PATIENT_ID": patientID, "BRIXIA_ANALYSIS_VERSION": "\(version)",
            "BRIXIA_GLOBAL_SCORE": "\(global)",
        ]
    }

    @discardableResult
    public func run(alert: FiredAlert, study: String, patientID: String, version: Int, global: Int, log: Logger) -> Outcome {
        let p = Process()
        p.executableURL = executable
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment(for: alert, study: study, patientID: patientID, version: version, global: global) { env[k] = v }
        p.environment = env
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        do { try p.run() } catch {
            log.warning("alert hook could not be started", metadata: ["hook": "\(executable.path)", "error": "\(error)"])
            return Outcome(exitStatus: nil, timedOut: false, launchError: "\(error)")
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            _ = done.wait(timeout: .now() + 5)
            log.warning("alert hook timed out and was stopped", metadata: ["hook": "\(executable.path)", "seconds": "\(timeout)"])
            return Outcome(exitStatus: nil, timedOut: true, launchError: nil)
        }
        let status = p.terminationStatus
        if status != 0 {
            log.warning("alert hook failed", metadata: ["hook": "\(executable.path)", "status": "\(status)"])
        }
        return Outcome(exitStatus: status, timedOut: false, launchError: nil)
    }
}

/// Runs alert hooks one at a time, in the order the alerts fired, on a queue of their own so that the pipeline's
/// engine goes on scoring while a hook runs. `drain` waits for every submitted hook (end of `run --once`,
/// daemon shutdown); each hook is bounded by its own timeout, so the wait is bounded too.
public final class AlertHookQueue: Sendable {
    private let queue = DispatchQueue(label: "brixia.alert-hooks")
    private let group = DispatchGroup()

    public init() {}

    public func submit(_ hook: AlertHook, alert: FiredAlert, study: String, patientID: String, version: Int, global: Int,
                       log: Logger) {
        queue.async(group: group) {
            hook.run(alert: alert, study: study, patientID: patientID, version: version, global: global, log: log)
        }
    }

    /// Waits until every hook submitted so far has finished (or timed out and been stopped).
    public func drain() { group.wait() }
}
