#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// `brixia receive` (the real binary) with DCMTK's storescu/echoscu as the peer, on loopback.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/storescu"),
                             "needs DCMTK's storescu (Debian package dcmtk)"))
struct ReceiveCLITests {
    @Test(.timeLimit(.minutes(2)))
    func refusesToStartWithoutAnAllowList() async throws {
        let w = try WorkDir()
        let r = try await Brixia.run(["receive", "--port", "\(Ports.free())", "--inbox", w.url("scp-inbox").path], timeout: 30)
        #expect(r.status == 64, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("--allow AE[,AE...]") && r.stderr.contains("--allow-any-caller"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.url("scp-inbox").path), "nothing may be set up before refusing")
    }

    /// N instances stored, one caller rejected: the line printed at stop (SIGTERM) has those counts.
    @Test(.timeLimit(.minutes(2)))
    func stopLinePrintsTheRealCounters() async throws {
        let w = try WorkDir()
        let port = Ports.free()
        let n = 3
        var files: [String] = []
        for i in 0..<n {
            let st = "\(E2E.root).71.\(i)"
            try DicomFixture(study: st, sop: "\(st).1").write(to: w.url("src/\(i).dcm"))
            files.append(w.url("src/\(i).dcm").path)
        }
        guard let bin = Brixia.binary else { throw CLIError("brixia executable not found") }
        let p = Process()
        p.executableURL = bin
        p.arguments = ["receive", "--aet", "BRIXIA", "--port", "\(port)", "--inbox", w.url("inbox").path,
                       "--allow", "STORESCU,OTHER", "--bind", "127.0.0.1", "--timeout", "30"]
        let out = w.url("receive.out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let h = try FileHandle(forWritingTo: out)
        p.standardOutput = h
        p.standardError = h
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        func output() -> String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
        #expect(try await eventually(30) { output().contains("listening as BRIXIA on 127.0.0.1 port \(port)") }, "\(output())")

        let store = try await Brixia.runTool("/usr/bin/storescu", ["-aet", "STORESCU", "-aec", "BRIXIA", "127.0.0.1", "\(port)"] + files)
        #expect(store.status == 0, "\(store.output)")
        let intruder = try await Brixia.runTool("/usr/bin/echoscu", ["-aet", "INTRUDER", "-aec", "BRIXIA", "127.0.0.1", "\(port)"])
        #expect(intruder.status != 0, "an AE title not on the list must be rejected")
        #expect(w.files("inbox").count == n)

        // A peer that connects and says nothing must not delay SIGTERM (the timeout is 30 s).
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(silent, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(connected == 0)
        usleep(300_000)
        kill(p.processIdentifier, SIGTERM)
        let sent = Date()
        let end = Date().addingTimeInterval(20)
        while p.isRunning && Date() < end { usleep(50_000) }
        #expect(!p.isRunning, "receive did not stop on SIGTERM")
        #expect(Date().timeIntervalSince(sent) < 5, "a silent peer delayed SIGTERM by \(Date().timeIntervalSince(sent)) s")
        #expect(output().contains("stopped; stored \(n), failed 0, rejected associations 1"), "\(output())")
    }
}

extension Brixia {
    /// Runs another program (a DCMTK tool) to completion; stdout and stderr together.
    static func runTool(_ exe: String, _ args: [String], timeout: TimeInterval = 60) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { cont in
            DispatchQueue.global().async {
                cont.resume(with: Swift.Result {
                    let p = Process()
                    p.executableURL = URL(fileURLWithPath: exe)
                    p.arguments = args
                    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-tool-\(UUID().uuidString)")
                    FileManager.default.createFile(atPath: tmp.path, contents: nil)
                    defer { try? FileManager.default.removeItem(at: tmp) }
                    let h = try FileHandle(forWritingTo: tmp)
                    p.standardOutput = h
                    p.standardError = h
                    try p.run()
                    let end = Date().addingTimeInterval(timeout)
                    while p.isRunning && Date() < end { usleep(20_000) }
                    if p.isRunning { p.terminate() }
                    p.waitUntilExit()
                    return (p.terminationStatus, (try? String(contentsOf: tmp, encoding: .utf8)) ?? "")
                })
            }
        }
    }
}
