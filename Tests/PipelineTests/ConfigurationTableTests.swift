import Foundation
import Store
import Testing
@testable import Pipeline

/// The one configuration table (ConfigTable.keys): parsing, validation, flag help and docs come from it.
@Suite struct ConfigurationTableTests {
    let base = URL(fileURLWithPath: "/srv/brixia")

    /// The defaults are the ones brixia always had (behaviour unchanged by the table).
    @Test func defaultsAreTheDocumentedOnes() {
        let c = PipelineConfig.defaults(workDir: base)
        #expect(c.inbox.path == "/srv/brixia/inbox" && c.database.path == "/srv/brixia/brixia.sqlite")
        #expect(c.quietPeriod == 10 && c.workerThreads == 2 && c.trendThreshold == 2 && c.outputs == [.sr, .sc])
        #expect(c.alertRules == AlertRule.defaults && !c.deleteInsteadOfArchive && c.alertHook == nil)
        #expect(c.stabilityPeriod == 2 && c.rescanInterval == 30 && c.retryDelay == 60)
        #expect(c.maxAttempts == 3 && c.maxCrashes == 3 && c.incompleteFileGrace == 120 && c.fileGroup == nil)
        #expect(!c.explain && c.explainSegments == 180)
        #expect(c.network.scp == nil && c.network.destinations.isEmpty && c.network.callingAETitle == "BRIXIA")
        #expect(c.network.sendTimeoutSeconds == 30 && c.network.retry == OutgoingRetryPolicy())
        #expect(c.http == nil)
        #expect(PipelineConfig.defaultWorkerThreads == 2)
    }

    /// A valid text for each type (and range), to feed every key through every source.
    static func sample(_ k: ConfigKey) -> String {
        switch k.type {
        case .path: return "/data/\(k.key)"
        case .text: return "T\(k.key.count)"
        case .bool: return "true"
        case .list: return "a, b"
        case .number, .integer:
            switch k.range {
            case .within(let lo, _), .atLeast(let lo): return String(Int(lo) + 1)
            case .above(let lo): return String(Int(lo) + 1)
            case .any: return "7"
            }
        }
    }

    static func expected(_ k: ConfigKey) -> ConfigValue {
        let s = sample(k)
        switch k.type {
        case .path, .text: return .text(s)
        case .bool: return .bool(true)
        case .list: return .list(["a", "b"])
        case .number: return .number(Double(s)!)
        case .integer: return .integer(Int(s)!)
        }
    }

    /// Every spelling of every key is read from a `key = value` file, as the key's type.
    @Test func everySpellingOfEveryKeyIsRead() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var spellings = 0
        for k in ConfigTable.keys {
            #expect(k.spellings.contains(k.snakeCase) && k.spellings.first == k.key)
            for spelling in k.spellings {
                let file = dir.appendingPathComponent("\(spelling).conf")
                try Data("\(spelling) = \(Self.sample(k))\n".utf8).write(to: file)
                var src = ConfigSources(defaultBase: base)
                try src.addFile(file)
                #expect(src.entries[k.key]?.value == Self.expected(k), "\(spelling)")
                spellings += 1
            }
        }
        #expect(spellings > ConfigTable.keys.count)
        // JSON takes the keys only.
        let json = dir.appendingPathComponent("c.json")
        try Data(#"{"quiet_period": 3}"#.utf8).write(to: json)
        var src = ConfigSources(defaultBase: base)
        let e = #expect(throws: ConfigError.self) { try src.addFile(json) }
        #expect(e?.description.contains("unknown keys: quiet_period") == true)
    }

    /// Every key with a variable is read from the environment, and only those variables count.
    @Test func everyVariableIsRead() throws {
        let withVariables = ConfigTable.keys.filter { $0.environment != nil }
        #expect(withVariables.count >= 15)
        var env: [String: String] = ["BRIXIA_HTTP_PORT": "8080"]   // not a variable of the table: ignored
        for k in withVariables { env[k.environment!] = Self.sample(k) }
        var src = ConfigSources(defaultBase: base)
        try src.addEnvironment(env, base: base)
        for k in withVariables { #expect(src.entries[k.key]?.value == Self.expected(k), "\(k.environment!)") }
        #expect(!src.isSet("httpPort"))
        #expect(Set(ConfigResolver.environmentKeys) == Set(withVariables.map { $0.environment! } + ["BRIXIA_CONFIG"]))
    }

    /// Every range in the table is enforced, with the key and the requirement named, from every source.
    @Test func rangesAreEnforcedWithTheKeyNamed() throws {
        for k in ConfigTable.keys {
            let bad: String
            switch k.range {
            case .any: continue
            case .atLeast(let lo): bad = String(Int(lo) - 1)
            case .above(let lo): bad = String(Int(lo))
            case .within(_, let hi): bad = String(Int(hi) + 1)
            }
            let e = #expect(throws: ConfigError.self) { _ = try ConfigSources.parse(bad, as: k, origin: k.key) }
            #expect(e?.description == "\(k.key) must be \(k.range.requirement!), got \(k.type == .integer ? bad : String(Double(bad)!))",
                    "\(e?.description ?? "")")
            if let name = k.environment {
                var src = ConfigSources(defaultBase: base)
                #expect(throws: ConfigError.self) { try src.addEnvironment([name: bad], base: base) }
            }
        }
        // Type errors name the source.
        let e = #expect(throws: ConfigError.self) { _ = try ConfigSources.parse("many", as: ConfigTable.key("workerThreads"), origin: "BRIXIA_THREADS") }
        #expect(e?.description == "BRIXIA_THREADS must be an integer, got 'many'")
    }

    /// `--help` of run/serve shows the table's help, default and variable.
    @Test func flagHelpComesFromTheTable() {
        let k = ConfigTable.key("quietPeriodSeconds")
        #expect(k.flagHelp == "Seconds without new instances before a study is processed (default 10). Env: BRIXIA_QUIET_SECONDS.")
        #expect(ConfigTable.key("inbox").flagHelp.contains("(default <workDir>/inbox)"))
    }

    /// docs/configuration.md is the table's Markdown, byte for byte (regenerate with `brixia config keys --markdown`).
    @Test func theDocumentedTableIsTheTable() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        #expect(text == ConfigTable.markdown(), "docs/configuration.md is stale: run `brixia config keys --markdown > docs/configuration.md`")
        for k in ConfigTable.keys { #expect(text.contains("`\(k.key)`")) }
    }
}
