import Foundation
@testable import DicomNetwork

/// A throw-away Orthanc on loopback (scripts/orthanc-start.sh / orthanc-stop.sh), REST through curl.
final class Orthanc {
    let dir: String
    let dicomPort: UInt16
    let httpPort: UInt16
    let aeTitle = "PACSTEST"
    let brixiaAE: String
    let brixiaPort: UInt16
    let lua: String?
    private(set) var running = false

    static var binaryAvailable: Bool {
        ["/usr/sbin/Orthanc", "/usr/bin/Orthanc", "/usr/local/bin/Orthanc"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(brixiaAE: String = "BRIXIA", brixiaPort: UInt16 = 11112, lua: String? = nil) throws {
        dir = try NetTest.tempDir("orthanc")
        dicomPort = NetTest.freePort()
        httpPort = NetTest.freePort()
        self.brixiaAE = brixiaAE
        self.brixiaPort = brixiaPort
        self.lua = lua
    }

    var node: DicomNode { try! DicomNode(aeTitle: aeTitle, host: "127.0.0.1", port: dicomPort) }

    func start() throws {
        let script = NetTest.repoRoot.appendingPathComponent("scripts/orthanc-start.sh").path
        let r = try NetTest.run("/bin/bash", [script, dir, "\(dicomPort)", "\(httpPort)", brixiaAE, "\(brixiaPort)", aeTitle],
                                timeout: 120, env: lua.map { ["ORTHANC_LUA": $0] } ?? [:])
        guard r.status == 0 else { throw NetTest.FixtureError(message: "orthanc-start failed: \(r.output)") }
        running = true
    }

    func stop() {
        guard running else { return }
        let script = NetTest.repoRoot.appendingPathComponent("scripts/orthanc-stop.sh").path
        _ = try? NetTest.run("/bin/bash", [script, dir], timeout: 30)
        running = false
    }

    deinit { stop(); try? FileManager.default.removeItem(atPath: dir) }

    /// curl against the REST API; returns the parsed JSON.
    func rest(_ method: String, _ path: String, body: String? = nil, file: String? = nil) throws -> Any {
        var args = ["-sS", "-m", "30", "-X", method, "http://127.0.0.1:\(httpPort)\(path)", "-w", "\n%{http_code}"]
        if let body { args += ["--data-binary", body] }
        if let file { args += ["--data-binary", "@\(file)"] }
        let r = try NetTest.run("/usr/bin/curl", args, timeout: 40)
        var lines = r.output.split(separator: "\n", omittingEmptySubsequences: false)
        let code = lines.popLast().map(String.init) ?? ""
        guard r.status == 0, code.hasPrefix("2") else { throw NetTest.FixtureError(message: "\(method) \(path): HTTP \(code) \(r.output)") }
        let text = lines.joined(separator: "\n")
        return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    /// Orthanc instance ID for a SOP Instance UID, or nil.
    func lookupInstance(_ sopUID: String) throws -> String? {
        let r = try rest("POST", "/tools/lookup", body: sopUID) as? [[String: Any]] ?? []
        return r.first(where: { $0["Type"] as? String == "Instance" })?["ID"] as? String
    }
}
