import Foundation
import Testing
@testable import Pipeline

/// The web console's keys: off by default, loopback by default when on, validated like the SCP's.
@Suite struct HTTPConfigTests {
    let cwd = URL(fileURLWithPath: "/srv/brixia")

    func resolve(_ text: String) throws -> PipelineConfig {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("brixia.conf")
        try Data(text.utf8).write(to: file)
        return try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: file.path, environment: [:], currentDirectory: cwd,
                                          shippedModel: { nil })
    }

    @Test func offByDefault() throws {
        #expect(try resolve("work_dir = /srv/w\n").http == nil)
    }

    @Test func onWithLoopbackAndWorkDirUsersFileByDefault() throws {
        let h = try #require(try resolve("work_dir = /srv/w\nhttp_port = 8080\n").http)
        #expect(h.port == 8080 && h.address == "127.0.0.1" && !h.secureCookies)
        #expect(h.usersFile.path == "/srv/w/console-users.json")
    }

    @Test func aliasesAndJSONNames() throws {
        let h = try #require(try resolve("http_port = 9000\nhttp_bind_address = ::1\nhttp_users_file = /etc/brixia/u.json\nhttp_secure_cookies = yes\n").http)
        #expect(h.port == 9000 && h.address == "::1" && h.usersFile.path == "/etc/brixia/u.json" && h.secureCookies)
        let j = try #require(try resolve(#"{"httpPort": 8081, "httpAddress": "0.0.0.0", "httpSecureCookies": true}"#).http)
        #expect(j.port == 8081 && j.address == "0.0.0.0" && j.secureCookies)
    }

    @Test func badValuesAreConfigErrors() throws {
        for (text, words) in [("http_port = 0\n", "httpPort must be 1-65535"),
                              ("http_port = 8080\nhttp_address = brixia.example\n", "httpAddress"),
                              ("http_address = 127.0.0.1\n", "no httpPort"),
                              ("http_port = eighty\n", "integer"),
                              (#"{"httpPorts": 8080}"#, "unknown keys")] {
            let e = #expect(throws: ConfigError.self) { try resolve(text) }
            #expect(e?.description.contains(words) == true, "\(text): \(e?.description ?? "")")
        }
    }
}
