import Foundation
import Testing

/// scripts/install.sh staged into a folder (no user, no systemctl), as a packager would run it, and
/// `brixia config check` on configurations that work and that cannot.
@Suite(.serialized) struct InstallCLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(.timeLimit(.minutes(5)))
    func stagedInstallHasBinaryModelManPagesCompletionsUnitAndConfig() async throws {
        let bin = try #require(Brixia.binary, "brixia executable not built")
        let genman = bin.deletingLastPathComponent().appendingPathComponent("generate-manual")
        try #require(FileManager.default.isExecutableFile(atPath: genman.path),
                     "\(genman.path) missing: run `swift build --product generate-manual` first (scripts/test.sh does)")
        let w = try WorkDir()
        let stage = w.url("stage")
        let r = try await Brixia.runTool(Self.repo.appendingPathComponent("scripts/install.sh"),
                                         ["--destdir", stage.path, "--binary", bin.path], timeout: 240)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let prefix = stage.appendingPathComponent("usr/local")
        let installed = prefix.appendingPathComponent("bin/brixia")
        #expect(FileManager.default.isExecutableFile(atPath: installed.path))
        for f in ["share/brixia/models/bsnet-brixia-own/model.json", "share/man/man1/brixia.1", "share/man/man1/brixia.serve.1",
                  "share/man/man1/brixia.config.check.1", "share/bash-completion/completions/brixia",
                  "share/zsh/site-functions/_brixia", "share/fish/vendor_completions.d/brixia.fish", "share/doc/brixia/LICENSE"] {
            #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent(f).path), "missing \(f)")
        }
        let man = try String(contentsOf: prefix.appendingPathComponent("share/man/man1/brixia.serve.1"), encoding: .utf8)
        #expect(man.contains(".Nm") && man.contains("serve"))
        let completion = try String(contentsOf: prefix.appendingPathComponent("share/bash-completion/completions/brixia"), encoding: .utf8)
        #expect(completion.contains("trend") && completion.contains("--work-dir"))

        // The unit: runs as its own user, hardened, with the installed paths.
        let unit = try String(contentsOf: stage.appendingPathComponent("etc/systemd/system/brixia.service"), encoding: .utf8)
        for line in ["User=brixia", "ExecStart=/usr/local/bin/brixia serve --config /etc/brixia/brixia.conf",
                     "ExecStartPre=/usr/local/bin/brixia config check /etc/brixia/brixia.conf",
                     "ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes", "ReadWritePaths=/var/lib/brixia",
                     "RestartPreventExitStatus=2 75"] {
            #expect(unit.contains(line), "unit lacks \(line)")
        }
        #expect(!unit.contains("@PREFIX@"))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") {
            // Verified with the staged binary in place of the installed path.
            let local = w.url("brixia.service")
            try unit.replacingOccurrences(of: "/usr/local/bin/brixia", with: installed.path).write(to: local, atomically: true, encoding: .utf8)
            let v = try await Brixia.runTool(URL(fileURLWithPath: "/usr/bin/systemd-analyze"), ["verify", "--man=no", local.path])
            #expect(v.status == 0 && v.stderr.isEmpty, "systemd-analyze verify: \(v.stderr)")
        }

        // The installed binary finds its installed model; the shipped config parses.
        let config = stage.appendingPathComponent("etc/brixia/brixia.conf")
        let check = try await Brixia.runTool(installed, ["config", "check", config.path, "--json"])
        #expect(check.stdout.contains("\"item\":\"model\",\"detail\":\"bsnet-brixia-own"), "\(check.stdout)")
        #expect(check.stdout.contains("\(prefix.path)/share/brixia/models/bsnet-brixia-own"))
        #expect(check.stdout.contains("\"item\":\"configuration\",\"detail\""))

        // A second run keeps an edited configuration.
        try Data("# edited by the operator\nwork_dir = /srv/brixia\n".utf8).write(to: config)
        let again = try await Brixia.runTool(Self.repo.appendingPathComponent("scripts/install.sh"),
                                             ["--destdir", stage.path, "--binary", bin.path], timeout: 240)
        #expect(again.status == 0)
        #expect(try String(contentsOf: config, encoding: .utf8).hasPrefix("# edited by the operator"))
    }

    @Test(.timeLimit(.minutes(3)))
    func configCheckPassesAWorkingSetupAndNamesEveryProblem() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        for d in ["outbox", "archive", "quarantine"] {
            try FileManager.default.createDirectory(at: w.url(d), withIntermediateDirectories: true)
        }
        let shipped = Self.repo.appendingPathComponent("models/bsnet-brixia-own")
        let good = w.url("good.conf")
        let common = "work_dir = \(w.root.path)\nscp_port = 11197\nscp_bind_address = 127.0.0.1\nscp_allowed_callers = PACS\ndestination = PACS@127.0.0.1:11198\n"
        try Data((common + "model = \(shipped.path)\n").utf8).write(to: good)
        let ok = try await Brixia.run(["config", "check", good.path])
        #expect(ok.status == 0, "\(ok.stdout)\n\(ok.stderr)")
        #expect(ok.stdout.contains("ok       model         bsnet-brixia-own"))
        #expect(ok.stdout.contains("ok       scp           BRIXIA on 127.0.0.1:11197 accepting calling AE titles PACS"))
        #expect(ok.stdout.contains("ok       destination   PACS@127.0.0.1:11198"))
        // Nothing was created or changed by the check.
        #expect(!FileManager.default.fileExists(atPath: w.url("brixia.sqlite").path))

        let withFixture = w.url("fixture.conf")
        try Data((common + "model = \(model.path)\n").utf8).write(to: withFixture)
        let fixture = try await Brixia.run(["config", "check", withFixture.path])
        #expect(fixture.status == 1, "a random test fixture must fail the check: \(fixture.stdout)")
        #expect(fixture.stdout.contains("random test fixture"))
        // --echo: a destination nobody answers is a failure.
        let echo = try await Brixia.run(["config", "check", good.path, "--echo"], timeout: 60)
        #expect(echo.status == 1)
        #expect(echo.stdout.contains("PACS@127.0.0.1:11198: C-ECHO failed"))

        // Problems: a file where the outbox should be, a missing inbox, a model folder that is not a bundle.
        let bad = w.url("bad.conf")
        try Data("work_dir = \(w.root.path)\ninbox = \(w.url("nope").path)\noutbox = \(w.url("bad.conf").path)\nmodel = \(w.url("outbox").path)\n".utf8).write(to: bad)
        let r = try await Brixia.run(["config", "check", bad.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("failed   inbox         \(w.url("nope").path) does not exist"))
        #expect(r.stdout.contains("failed   outbox        \(w.url("bad.conf").path) exists but is not a folder"))
        #expect(r.stdout.contains("failed   model         \(w.url("outbox").path)"))
        #expect(r.stdout.contains("ok       archive"))

        let typo = w.url("typo.conf")
        try Data("inbx = /tmp\n".utf8).write(to: typo)
        let t = try await Brixia.run(["config", "check", typo.path, "--json"])
        #expect(t.status == 2)
        #expect(t.stdout.contains("unknown keys: inbx"))
        #expect(t.stdout.contains("\"ok\":false"))

        // A port held by someone else is a warning (a running serve holds it), not a failure.
        let held = w.url("held.conf")
        try Data("work_dir = \(w.root.path)\nscp_port = 11196\nscp_bind_address = 127.0.0.1\nscp_allow_any_caller = true\n".utf8).write(to: held)
        let listener = try PortHolder(port: 11196)
        let h = try await Brixia.run(["config", "check", held.path])
        #expect(h.stdout.contains("warning  scp"), "\(h.stdout)")
        withExtendedLifetime(listener) {}
    }
}

/// Holds a listening loopback TCP port for the duration of a test.
final class PortHolder {
    let fd: Int32
    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in(); a.sin_family = sa_family_t(AF_INET); a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0, listen(fd, 1) == 0 else { close(fd); throw CLIError("cannot hold port \(port)") }
    }
    deinit { close(fd) }
}
