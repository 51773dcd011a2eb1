import Foundation
import Testing
@testable import HTTPConsole

@Suite struct UsersFileTests {
    @Test func passwordsAreSaltedBcryptAndVerified() throws {
        var f = UsersFile()
        try f.setUser(name: "alice", role: .operator, password: "correct horse battery")
        try f.setUser(name: "bob", role: .viewer, password: "correct horse battery")
        let a = try #require(f.users.first { $0.name == "alice" }), b = try #require(f.users.first { $0.name == "bob" })
        #expect(a.passwordHash.hasPrefix("$2"))
        #expect(!a.passwordHash.contains("correct"))
        #expect(a.passwordHash != b.passwordHash, "same password, different salt")
        #expect(f.authenticate(name: "alice", password: "correct horse battery")?.role == .operator)
        #expect(f.authenticate(name: "alice", password: "wrong horse battery") == nil)
        #expect(f.authenticate(name: "nobody", password: "correct horse battery") == nil)
    }

    @Test func refusesWeakPasswordsAndOddNames() {
        var f = UsersFile()
        #expect(throws: ConsoleError.self) { try f.setUser(name: "alice", role: .viewer, password: "short") }
        #expect(throws: ConsoleError.self) { try f.setUser(name: "a b", role: .viewer, password: "long enough pass") }
        #expect(throws: ConsoleError.self) { try f.setUser(name: "x", role: .viewer, password: String(repeating: "p", count: 80)) }
    }

    @Test func tokensAreStoredHashedAndFindTheirUser() throws {
        var f = UsersFile()
        try f.setUser(name: "ci", role: .viewer, password: "a long password")
        let token = try f.addToken(name: "ci")
        #expect(token.hasPrefix("bxt_") && token.count == 68)
        #expect(!f.users[0].tokenHashes.contains(token))
        #expect(f.user(forToken: token)?.name == "ci")
        #expect(f.user(forToken: token + "x") == nil)
        #expect(f.user(forToken: "bxt_" + String(repeating: "0", count: 64)) == nil)
    }

    @Test func savedFileIsPrivateAndRoundTrips() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-users-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("users.json")
        var f = UsersFile()
        try f.setUser(name: "alice", role: .viewer, password: "a long password")
        try f.save(url)
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try UsersFile.load(url) == f)
        #expect(throws: ConsoleError.self) { try ConsoleServer.checkUsersFile(dir.appendingPathComponent("missing.json")) }
    }
}

@Suite struct SessionAndThrottleTests {
    @Test func throttleBlocksAfterRepeatedFailuresThenForgets() {
        let t = LoginThrottle(limit: 3, window: 60)
        let now = Date()
        for _ in 0..<2 { t.recordFailure(["addr:1"], now: now) }
        #expect(t.blockedFor(["addr:1"], now: now) == nil)
        t.recordFailure(["addr:1"], now: now)
        let wait = t.blockedFor(["addr:1"], now: now.addingTimeInterval(10))
        #expect(wait != nil && wait! > 40 && wait! <= 50)
        #expect(t.blockedFor(["addr:2"], now: now) == nil)
        #expect(t.blockedFor(["addr:1"], now: now.addingTimeInterval(61)) == nil)
    }

    @Test func sessionsExpireWhenIdle() {
        let s = SessionStore()
        let now = Date()
        let a = s.create(user: "alice", role: .viewer, now: now)
        #expect(a.id.count == 64 && a.csrf.count == 64 && a.id != a.csrf)
        #expect(s.find(a.id, now: now.addingTimeInterval(60))?.user == "alice")
        #expect(s.find(a.id, now: now.addingTimeInterval(60 + SessionStore.idleTimeout + 1)) == nil)
        #expect(s.find("nope") == nil)
    }
}

@Suite struct ChartTests {
    @Test func trendChartMarksAlertsAndAmendedExams() {
        let exams = [
            ChartExam(label: "2026-03-02", global: 4, zones: [1, 1, 0, 1, 1, 0], alert: false, amended: false),
            ChartExam(label: "2026-03-04", global: 12, zones: [2, 2, 2, 2, 2, 2], alert: true, amended: true),
        ]
        let svg = Charts.trendSVG(exams, title: "trend <of> P&1")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(svg.contains("trend &lt;of&gt; P&amp;1"))
        #expect(svg.components(separatedBy: "class=\"exam alert amended\"").count == 2)
        #expect(svg.components(separatedBy: "class=\"exam\"").count == 2)
        #expect(svg.contains("<polyline"))
        #expect(svg.contains(">amended</text>"))
        // One coloured cell per zone and exam.
        #expect(svg.components(separatedBy: "width=\"40\"").count - 1 == 12)
        #expect(!svg.contains("<script"))
    }

    @Test func zoneDiagramColoursEachZoneByGrade() {
        let svg = Charts.zoneDiagramSVG(zones: [0, 1, 2, 3, 0, 1], title: "z")
        for (zone, g) in zip(["A", "B", "C", "D", "E", "F"], [0, 1, 2, 3, 0, 1]) {
            #expect(svg.contains("zone-\(zone)\" x=") && svg.contains(">\(zone) \(g)</text>"))
        }
        #expect(svg.contains(Charts.gradeColors[3]))
    }
}

@Suite struct OpenAPITests {
    static let openapi = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")

    /// (method, path) pairs under `paths:` of the OpenAPI file (a small reader for its two-level layout).
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOf: openapi, encoding: .utf8)
        var ops = Set<String>(), inPaths = false, current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("paths:") { inPaths = true; continue }
            if inPaths, !line.isEmpty, !line.hasPrefix(" "), !line.hasPrefix("#") { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                current = String(line.dropFirst(2).dropLast())
            } else if let c = current, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let key = line.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ":", with: "")
                if ["get", "post", "put", "delete", "patch"].contains(key) { ops.insert("\(key.uppercased()) \(c)") }
            }
        }
        return ops
    }

    @Test func everyAPIRouteIsDocumentedAndEveryDocumentedRouteExists() throws {
        let served = Set(ConsoleRoutes.all.filter(\.api).map { "\($0.method) \($0.path)" })
        let documented = try Self.documentedOperations()
        #expect(!documented.isEmpty)
        #expect(served.subtracting(documented).isEmpty, "served but not in docs/openapi.yaml: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "in docs/openapi.yaml but not served: \(documented.subtracting(served).sorted())")
    }

    @Test func routesAreUnique() {
        let keys = ConsoleRoutes.all.map { "\($0.method) \($0.path)" }
        #expect(Set(keys).count == keys.count)
    }
}

@Suite struct CookieAndRedirectTests {
    func gate(secure: Bool) -> Gate {
        Gate(users: UsersCache(url: URL(fileURLWithPath: "/nonexistent")), sessions: SessionStore(), throttle: LoginThrottle(),
             secureCookies: secure)
    }

    @Test func sessionCookieIsHttpOnlyStrictAndSecureBehindTLS() {
        let s = SessionStore().create(user: "alice", role: .viewer)
        let plain = gate(secure: false).sessionCookie(s).description
        #expect(plain.contains("brixia_session=\(s.id)") && plain.contains("HttpOnly") && plain.contains("SameSite=Strict"))
        #expect(!plain.contains("Secure"))
        #expect(gate(secure: true).sessionCookie(s).description.contains("Secure"))
        #expect(gate(secure: true).clearedCookie().description.contains("Max-Age=0"))
    }

    @Test func loginRedirectsOnlyToLocalPaths() {
        #expect(ConsoleServer.safeNext("/patients/BRX-0001") == "/patients/BRX-0001")
        for hostile in ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", nil] {
            #expect(ConsoleServer.safeNext(hostile) == "/", "\(hostile ?? "nil")")
        }
    }

    @Test func formBodiesAreDecoded() {
        let f = FormBody.parse("username=a%20b&password=p%26q+r&csrf=&x")
        #expect(f["username"] == "a b" && f["password"] == "p&q r" && f["csrf"] == "" && f["x"] == "")
    }
}

@Suite struct QueryDecodingTests {
    @Test func plusIsSpaceAndEncodedPlusStaysPlus() {
        let q = FormBody.parse("patient=BRX+0001&id=A%2BB&date=2026-03-02")
        #expect(q["patient"] == "BRX 0001" && q["id"] == "A+B" && q["date"] == "2026-03-02")
    }
}
