#if canImport(Glibc)
import Glibc
#endif
import BrixiaTestSupport
import Foundation

/// A throw-away Orthanc on loopback for the `brixia serve` network tests (scripts/orthanc-start.sh and
/// orthanc-stop.sh: started and stopped by PID), REST through curl.
final class OrthancServer {
    let dir: URL
    let dicomPort: UInt16
    let httpPort: UInt16
    let aeTitle = "PACSTEST"
    let brixiaAE: String
    let brixiaPort: UInt16
    private(set) var running = false

    static var binaryAvailable: Bool {
        ["/usr/sbin/Orthanc", "/usr/bin/Orthanc", "/usr/local/bin/Orthanc"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(dir: URL, brixiaAE: String = "BRIXIA", brixiaPort: UInt16) {
        self.dir = dir
        dicomPort = Ports.free()
        var h = Ports.free()
        while h == dicomPort { h = Ports.free() }
        httpPort = h
        self.brixiaAE = brixiaAE
        self.brixiaPort = brixiaPort
    }

    /// Our destination entry for this PACS.
    var destination: String { "\(aeTitle)@127.0.0.1:\(dicomPort)" }

    /// Starts (or restarts, with the same database and ports) Orthanc.
    func start() throws {
        let script = Brixia.repoRoot.appendingPathComponent("scripts/orthanc-start.sh").path
        let r = try Shell.run("/bin/bash", [script, dir.path, "\(dicomPort)", "\(httpPort)", brixiaAE, "\(brixiaPort)", aeTitle], timeout: 120)
        guard r.status == 0 else { throw CLIError("orthanc-start failed: \(r.output)") }
        running = true
    }

    func stop() {
        guard running else { return }
        let script = Brixia.repoRoot.appendingPathComponent("scripts/orthanc-stop.sh").path
        _ = try? Shell.run("/bin/bash", [script, dir.path], timeout: 30)
        running = false
    }

    /// The PACS going down abruptly: SIGKILL by the recorded PID, then wait until the process is gone (a
    /// zombie counts: PID 1 of a container may never reap it). orthanc-stop.sh's SIGTERM is not used here
    /// because Orthanc keeps accepting C-STOREs for several seconds while it shuts down.
    func crash() throws {
        let pidFile = dir.appendingPathComponent("orthanc.pid")
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CLIError("no Orthanc PID in \(pidFile.path)")
        }
        Glibc.kill(pid, SIGKILL)
        let end = Date().addingTimeInterval(10)
        func gone() -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true
        }
        while !gone() && Date() < end { usleep(50_000) }
        guard gone() else { throw CLIError("Orthanc \(pid) survived SIGKILL") }
        try? FileManager.default.removeItem(at: pidFile)
        running = false
    }

    deinit { stop() }

    func rest(_ method: String, _ path: String, body: String? = nil, file: String? = nil) throws -> Any {
        var args = ["-sS", "-m", "60", "-X", method, "http://127.0.0.1:\(httpPort)\(path)", "-w", "\n%{http_code}"]
        if let body { args += ["--data-binary", body] }
        if let file { args += ["--data-binary", "@\(file)"] }
        let r = try Shell.run("/usr/bin/curl", args, timeout: 70)
        var lines = r.output.split(separator: "\n", omittingEmptySubsequences: false)
        let code = lines.popLast().map(String.init) ?? ""
        guard r.status == 0, code.hasPrefix("2") else { throw CLIError("\(method) \(path): HTTP \(code) \(r.output)") }
        return try JSONSerialization.jsonObject(with: Data(lines.joined(separator: "\n").utf8), options: [.fragmentsAllowed])
    }

    /// Orthanc's ID of the resource (Study, Instance, ...) with this DICOM UID, or nil.
    func lookup(_ uid: String, type: String) throws -> String? {
        let r = try rest("POST", "/tools/lookup", body: uid) as? [[String: Any]] ?? []
        return r.first { $0["Type"] as? String == type }?["ID"] as? String
    }

    func studyInstances(_ studyID: String) -> [[String: Any]] {
        (try? rest("GET", "/studies/\(studyID)/instances") as? [[String: Any]]) ?? []
    }
}

enum Ports {
    /// A TCP port nobody listens on right now (bind test on all interfaces).
    static func free() -> UInt16 {
        for _ in 0..<200 {
            let p = UInt16.random(in: 20000...59999)
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(s) }
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = p.bigEndian
            a.sin_addr.s_addr = INADDR_ANY
            let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if ok == 0 { return p }
        }
        return 0
    }
}

enum Shell {
    /// Runs a tool with stdout+stderr captured, killed after `timeout`, without BRIXIA_* variables (`Spawn.run`).
    static func run(_ exe: String, _ args: [String], timeout: TimeInterval) throws -> (status: Int32, output: String) {
        do {
            return try Spawn.run(exe, args, timeout: timeout,
                                 environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BRIXIA_") })
        } catch let e as Spawn.Failure { throw CLIError(e.description) }
    }
}

/// Polls `condition` every 250 ms until it holds or `seconds` pass; returns whether it held.
func eventually(_ seconds: TimeInterval, _ condition: () async throws -> Bool) async throws -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try await condition() { return true }
        try await Task.sleep(nanoseconds: 250_000_000)
    }
    return try await condition()
}
