import Foundation
import Testing
@testable import Pipeline
import ModelBundle

@Suite struct ConfigTests {
    let cwd = URL(fileURLWithPath: "/srv/brixia")

    @Test func defaultsHangOffTheWorkDir() throws {
        let c = try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: nil, environment: [:], currentDirectory: cwd,
                                           shippedModel: { nil })
        #expect(c.inbox.path == "/srv/brixia/brixia-work/inbox")
        #expect(c.database.path == "/srv/brixia/brixia-work/brixia.sqlite")
        #expect(c.model.path == "/srv/brixia/brixia-work/model")
        #expect(c.quietPeriod == 10)
        #expect(c.workerThreads == 2)
        #expect(c.outputs == [.sr, .sc])
        #expect(!c.deleteInsteadOfArchive)
    }

    @Test func precedenceFlagsOverEnvOverFileOverDefaults() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("brixia.json")
        try Data("""
            {"inbox": "in", "outbox": "/data/out", "quietPeriodSeconds": 30, "workerThreads": 4,
             "outputs": ["sr"], "deleteInsteadOfArchive": true, "alertRules": ["global>=9", "zone-rise>=2"], "trendThreshold": 3}
            """.utf8).write(to: file)
        var flags = ConfigOverrides()
        flags["quietPeriodSeconds"] = "5"
        let env = ["BRIXIA_QUIET_SECONDS": "20", "BRIXIA_THREADS": "3", "BRIXIA_OUTBOX": "/env/out",
                   "BRIXIA_TREND_THRESHOLD": "4"]
        let c = try ConfigResolver.resolve(flags: flags, configPath: file.path, environment: env, currentDirectory: cwd)
        #expect(c.quietPeriod == 5)                                   // flag
        #expect(c.workerThreads == 3)                                 // env over file
        #expect(c.outbox.path == "/env/out")                          // env over file
        #expect(c.inbox.path == dir.appendingPathComponent("in").path) // file, relative to the file
        #expect(c.outputs == [.sr])
        #expect(c.deleteInsteadOfArchive)
        #expect(c.alertRules == [.globalAtLeast(9), .zoneRiseAtLeast(2)])
        #expect(c.trendThreshold == 4)
    }

    @Test func configFileFromEnvironmentAndBadValues() throws {
        #expect(throws: ConfigError.self) {
            try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: "/nonexistent/brixia.json", environment: [:], currentDirectory: cwd)
        }
        #expect(throws: ConfigError.self) {
            try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: nil, environment: ["BRIXIA_THREADS": "many"], currentDirectory: cwd)
        }
        var f = ConfigOverrides(); f["outputs"] = "sr,pdf"
        let e = #expect(throws: ConfigError.self) {
            try ConfigResolver.resolve(flags: f, configPath: nil, environment: [:], currentDirectory: cwd)
        }
        #expect(e?.description.contains("pdf") == true)
        var g = ConfigOverrides(); g["inbox"] = "/x"; g["archive"] = "/x/archive"
        #expect(throws: ConfigError.self) {
            try ConfigResolver.resolve(flags: g, configPath: nil, environment: [:], currentDirectory: cwd)
        }
    }

    @Test func unknownConfigKeysAreRejected() throws {
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"inbx": "/typo"}"#.utf8).write(to: file)
        let e = #expect(throws: ConfigError.self) {
            try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: file.path, environment: [:], currentDirectory: cwd)
        }
        #expect(e?.description.contains("inbx") == true)
    }

    @Test func shippedModelIsUsedOnlyWhenNothingIsConfigured() throws {
        let shipped = URL(fileURLWithPath: "/opt/brixia/share/brixia/models/bsnet-brixia-own")
        let c = try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: nil, environment: [:], currentDirectory: cwd,
                                           shippedModel: { shipped })
        #expect(c.model == shipped)
        let e = try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: nil, environment: ["BRIXIA_MODEL": "/m/mine"],
                                           currentDirectory: cwd, shippedModel: { shipped })
        #expect(e.model.path == "/m/mine")
        var f = ConfigOverrides(); f["model"] = "relative/model"
        let g = try ConfigResolver.resolve(flags: f, configPath: nil, environment: [:], currentDirectory: cwd, shippedModel: { shipped })
        #expect(g.model.path == "/srv/brixia/relative/model")
    }

    @Test func defaultModelCandidatesCoverInstallAndCheckout() throws {
        let c = DefaultModel.candidates(executable: URL(fileURLWithPath: "/opt/brixia/bin/brixia"),
                                        sourceFile: "/src/brixia/Sources/ModelBundle/DefaultModel.swift").map(\.path)
        #expect(c == ["/opt/brixia/share/brixia/models/bsnet-brixia-own", "/opt/brixia/bin/models/bsnet-brixia-own",
                      "/src/brixia/models/bsnet-brixia-own"])
        let tmp = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-dm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let second = tmp.appendingPathComponent("b/bsnet-brixia-own")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        #expect(DefaultModel.locate(candidates: [tmp.appendingPathComponent("a"), second]) == nil)  // no model.json yet
        try Data("{}".utf8).write(to: second.appendingPathComponent("model.json"))
        #expect(DefaultModel.locate(candidates: [tmp.appendingPathComponent("a"), second]) == second)
    }

    @Test func missingModelMessageSaysHowToGetOne() {
        let dir = URL(fileURLWithPath: "/nonexistent-model")
        #expect(throws: ConfigError.self) { try ProductionPipeline.checkModelPresent(dir) }
        let m = ProductionPipeline.missingModelMessage(dir)
        #expect(m.contains("brixia model import-keras"))
        #expect(m.contains("--model"))
    }

    @Test func badAlertRuleIsAConfigError() {
        var f = ConfigOverrides(); f["alertRules"] = "global>12"
        let e = #expect(throws: ConfigError.self) {
            try ConfigResolver.resolve(flags: f, configPath: nil, environment: [:], currentDirectory: cwd)
        }
        #expect(e?.description.contains("global>12") == true)
    }

    @Test func keyValueConfigFileLikeTheSampleOne() throws {
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-\(UUID().uuidString).conf")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("""
            # comment
            inbox = /var/lib/brixia/inbox
            db = /var/lib/brixia/brixia.sqlite   # trailing comment
            quiet_period = 60
            outputs = sr
            alert_rules = global>=10, rise>=2
            delete_inputs = yes
            """.utf8).write(to: file)
        let c = try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: file.path, environment: [:], currentDirectory: cwd)
        #expect(c.inbox.path == "/var/lib/brixia/inbox")
        #expect(c.database.path == "/var/lib/brixia/brixia.sqlite")
        #expect(c.quietPeriod == 60)
        #expect(c.outputs == [.sr])
        #expect(c.alertRules == [.globalAtLeast(10), .globalRiseAtLeast(2)])
        #expect(c.deleteInsteadOfArchive)
        try Data("quiet_period = soon\n".utf8).write(to: file)
        let e = #expect(throws: ConfigError.self) {
            try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: file.path, environment: [:], currentDirectory: cwd)
        }
        #expect(e?.description.contains("line 1") == true)
    }

    @Test func theShippedSampleConfigParses() throws {
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Samples/brixia.conf.example")
        try #require(FileManager.default.fileExists(atPath: sample.path))
        let c = try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: sample.path, environment: [:], currentDirectory: cwd)
        #expect(c.inbox.path == "/var/lib/brixia/inbox")
        #expect(c.quietPeriod == 60)
    }
}
