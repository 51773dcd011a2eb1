#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The network keys of the config file, and `run --once` with a destination, without a PACS.
@Suite struct NetworkConfigCLITests {
    @Test(.timeLimit(.minutes(3)))
    func badNetworkKeysStopAtStartWithTheKeyNamed() async throws {
        let cases: [(String, String)] = [
            ("destinations = PACS@pacs.example.org", "is not AE@HOST:PORT"),
            ("destinations = PACS@h:104, THIS_AE_TITLE_IS_TOO_LONG@h:104", "invalid AE title"),
            ("scp_port = 70000", "scpPort must be 1-65535"),
            ("scp_ae_title = BRIXIA", "no scpPort"),
            ("scp_port = 11112\nscp_allowed_calling_ae_titles = PACS\nscp_bind_address = pacs.local", "scpBindAddress 'pacs.local' is not a numeric IPv4 or IPv6 address"),
            // Secure by default: no allow-list and no explicit opt-out is refused, naming both ways out.
            ("scp_port = 11112", "scp_allowed_calling_ae_titles = PACS, MODALITY1"),
            ("scp_port = 11112\nscp_allowed_calling_ae_titles =", "`scp_allow_any_caller = true`"),
            ("scp_port = 11112\nscp_allow_any_caller = maybe", "scp_allow_any_caller must be true or false"),
            ("scp_allow_any_caller = true", "scpAllowAnyCaller given but no scpPort"),
            ("scp_port = 11112\nscp_allowed_calling_ae_titles = PACS\nscp_max_associations = 1000", "scpMaxAssociations must be 1-64"),
            ("send_initial_backoff = 0", "sendInitialBackoffSeconds must be > 0"),
            ("send_initial_backoff = 60\nsend_max_backoff = 10", "sendMaxBackoffSeconds (10.0) must be >= sendInitialBackoffSeconds"),
            ("scp_port = many", "scp_port must be an integer"),
        ]
        for (line, message) in cases {
            let w = try WorkDir()
            try Data(line.utf8).write(to: w.url("brixia.conf"))
            let r = try await Brixia.run(["run", "--once", "--work-dir", w.root.path, "--config", w.url("brixia.conf").path], timeout: 60)
            #expect(r.status == 2, "\(line): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(message), "\(line): \(r.stderr)")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func serveStopsWithStatus1WhenTheSCPPortIsTaken() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        // Hold a listening socket on the port.
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = INADDR_ANY
        var port: UInt16 = 0
        for _ in 0..<50 {
            port = UInt16.random(in: 20000...59999)
            a.sin_port = port.bigEndian
            let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if ok == 0 { break }
        }
        #expect(listen(s, 4) == 0)
        try Data("scp_port = \(port)\nscp_allowed_calling_ae_titles = PACS\n".utf8).write(to: w.url("brixia.conf"))
        let r = try await Brixia.run(["serve", "--work-dir", w.root.path, "--model", model.path, "--config", w.url("brixia.conf").path],
                                     env: ["BRIXIA_ALLOW_TEST_FIXTURE": "1"], timeout: 90)
        #expect(!r.timedOut)
        #expect(r.status == 1, "\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("brixia serve: storage SCP"), "\(r.stderr.suffix(2000))")
    }

    /// `run --once` queues SR + SC for the destination and makes one delivery round; with nobody listening they
    /// stay pending (exit status still 0), `status` shows them, and a second run queues nothing twice.
    @Test(.timeLimit(.minutes(5)))
    func runOnceQueuesReportsAndLeavesThemPendingWhenThePACSIsDown() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let dest = "PACS@127.0.0.1:\(Ports.free())"
        try Data("destinations = \(dest)\nsend_timeout = 5\nsend_initial_backoff = 600\n".utf8).write(to: w.url("brixia.conf"))
        let st = "\(E2E.root).62.1"
        try DicomFixture(study: st, sop: "\(st).1").write(to: w.url("inbox/\(st)/a.dcm"))
        let args = ["run", "--once", "--work-dir", w.root.path, "--model", model.path, "--config", w.url("brixia.conf").path]
        let r = try await Brixia.run(args, env: ["BRIXIA_ALLOW_TEST_FIXTURE": "1"], timeout: 240)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr.suffix(2000))")
        #expect(r.stdout.contains("\(dest)  pending 2, sent 0, failed 0"), "\(r.stdout)")
        #expect(r.stdout.contains("cannot connect to"), "\(r.stdout)")
        #expect(r.stdout.contains("pending reports are sent by `brixia serve`"), "\(r.stdout)")

        let db = w.url("brixia.sqlite").path
        let status = try await Brixia.run(["status", "--db", db, "--json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let out = try #require((obj["outgoing"] as? [[String: Any]])?.first)
        #expect(out["destination"] as? String == dest && out["pending"] as? Int == 2 && out["sent"] as? Int == 0)
        #expect(obj["counts"] != nil, "the Store's status keys are kept: \(obj.keys.sorted())")
        let show = try await Brixia.run(["show", st, "--db", db, "--json"])
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        let rows = try #require(detail["outgoing"] as? [[String: Any]])
        #expect(rows.count == 2 && rows.allSatisfy { $0["state"] as? String == "pending" && $0["attempts"] as? Int == 1 })
        let outbox = Set(w.files("outbox").map { w.url("outbox/\($0)").path })
        #expect(Set(rows.compactMap { $0["path"] as? String }) == outbox, "queued files are the published outputs")

        // Nothing new: the second run neither re-queues nor re-tries before the back-off.
        let r2 = try await Brixia.run(args, env: ["BRIXIA_ALLOW_TEST_FIXTURE": "1"], timeout: 240)
        #expect(r2.status == 0)
        let again = try await Brixia.run(["show", st, "--db", db, "--json"])
        let rows2 = (try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["outgoing"] as? [[String: Any]] ?? []
        #expect(rows2.count == 2 && rows2.allSatisfy { $0["attempts"] as? Int == 1 }, "\(rows2)")
    }
}
