#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A plain HTTP client for the console tests: URLSession with no automatic redirects and no cookie jar,
/// so the tests see exactly what the server answers.
final class ConsoleClient: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    struct Answer {
        let status: Int
        let headers: [String: String]
        let body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    let base: URL
    private var session: URLSession!

    init(port: Int) {
        base = URL(string: "http://127.0.0.1:\(port)")!
        super.init()
        let c = URLSessionConfiguration.ephemeral
        c.httpShouldSetCookies = false
        c.httpCookieAcceptPolicy = .never
        c.timeoutIntervalForRequest = 60
        session = URLSession(configuration: c, delegate: self, delegateQueue: nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], form: [String: String]? = nil) async throws -> Answer {
        var r = URLRequest(url: URL(string: path, relativeTo: base)!)
        r.httpMethod = method
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        if let form {
            r.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            r.httpBody = Data(form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
                .joined(separator: "&").utf8)
        }
        let (data, response) = try await session.data(for: r)
        let http = response as! HTTPURLResponse
        var h: [String: String] = [:]
        for (k, v) in http.allHeaderFields { h["\(k)"] = "\(v)" }
        return Answer(status: http.statusCode, headers: h, body: data)
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> Answer { try await request("GET", path, headers: headers) }
}

enum ConsoleTestSupport {
    /// A port free right now on loopback.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw CLIError("cannot find a free port") }
        return Int(UInt16(bigEndian: a.sin_port))
    }

    /// Runs brixia with `input` on stdin (passwords for `brixia user add`).
    static func run(_ args: [String], stdin input: String, env: [String: String] = [:]) throws -> (Int32, String) {
        guard let bin = Brixia.binary else { throw CLIError("brixia executable not found") }
        let p = Process()
        p.executableURL = bin
        p.arguments = args
        var e = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BRIXIA_") }
        e.merge(env) { $1 }
        p.environment = e
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = outPipe
        try p.run()
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try inPipe.fileHandleForWriting.close()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    /// Required top-level fields of a schema in docs/openapi.yaml (its inline `required: [...]` list).
    static func requiredFields(_ schema: String) throws -> [String] {
        let text = try String(contentsOf: Brixia.repoRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        guard let i = lines.firstIndex(of: "    \(schema):") else { throw CLIError("schema \(schema) not in docs/openapi.yaml") }
        for line in lines[(i + 1)...] {
            if line.hasPrefix("    ") && !line.hasPrefix("     ") { break }
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("required: [") {
                return t.dropFirst("required: [".count).dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            }
        }
        throw CLIError("schema \(schema) has no required list")
    }
}
