#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs the built `brixia` executable with a wall-clock limit (nothing may hang CI).
enum Brixia {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The executable next to the test bundle (swift test builds it), or $BRIXIA_BIN.
    static var binary: URL? {
        if let p = ProcessInfo.processInfo.environment["BRIXIA_BIN"] { return URL(fileURLWithPath: p) }
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let c = dir.appendingPathComponent("brixia")
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: c.path, isDirectory: &isDir), !isDir.boolValue { return c }
            dir = dir.deletingLastPathComponent()
        }
        for config in ["debug", "release"] {
            let c = repoRoot.appendingPathComponent(".build/\(config)/brixia")
            if FileManager.default.isExecutableFile(atPath: c.path) { return c }
        }
        return nil
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String; var timedOut: Bool }

    /// Runs off the cooperative thread pool, so that waiting here never starves other tests.
    static func run(_ args: [String], env: [String: String] = [:], cwd: URL? = nil, timeout: TimeInterval = 120) async throws -> Result {
        try await withCheckedThrowingContinuation { cont in
            DispatchQueue.global().async {
                cont.resume(with: Swift.Result { try runBlocking(args, env: env, cwd: cwd, timeout: timeout) })
            }
        }
    }

    /// Another program (a script of the repository, a system tool) with the same limits.
    static func runTool(_ tool: URL, _ args: [String], env: [String: String] = [:], cwd: URL? = nil,
                        timeout: TimeInterval = 120) async throws -> Result {
        try await withCheckedThrowingContinuation { cont in
            DispatchQueue.global().async {
                cont.resume(with: Swift.Result { try runBlocking(args, env: env, cwd: cwd, timeout: timeout, tool: tool) })
            }
        }
    }

    static func runBlocking(_ args: [String], env: [String: String], cwd: URL?, timeout: TimeInterval,
                            tool: URL? = nil) throws -> Result {
        guard let bin = tool ?? binary else { throw CLIError("brixia executable not found (run `swift build` first or set BRIXIA_BIN)") }
        let p = Process()
        p.executableURL = bin
        p.arguments = args
        var e = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BRIXIA_") }
        e.merge(env) { $1 }
        p.environment = e
        if let cwd { p.currentDirectoryURL = cwd }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-cli-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while p.isRunning {
            if Date() > deadline { kill(p.processIdentifier, SIGKILL); timedOut = true; break }
            usleep(20_000)
        }
        p.waitUntilExit()
        return Result(status: p.terminationStatus,
                      stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "", timedOut: timedOut)
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A scratch work dir for one test.
final class WorkDir {
    let root: URL
    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-cli-\(UUID().uuidString)")
        // The inbox exists, as an operator's would (a missing inbox is an error without --create-folders).
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inbox"), withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: root) }
    func url(_ p: String) -> URL { root.appendingPathComponent(p) }

    /// Regular files under `sub`, relative paths, sorted (dot-folders included only when asked).
    func files(_ sub: String, hidden: Bool = false) -> [String] {
        let base = url(sub)
        guard let e = FileManager.default.enumerator(atPath: base.path) else { return [] }
        return e.compactMap { $0 as? String }.filter { rel in
            if !hidden && rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { return false }
            var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: base.appendingPathComponent(rel).path, isDirectory: &d) && !d.boolValue
        }.sorted()
    }
}
