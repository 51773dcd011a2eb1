import Foundation
import ModelBundle
import Store

/// The resolved configuration (defaults < file < environment < flags).
public struct PipelineConfig: Sendable, Equatable {
    /// One default for every command that runs the network (run, serve, score, explain).
    public static let defaultWorkerThreads = 2

    public var inbox: URL
    public var outbox: URL
    public var archive: URL
    public var quarantine: URL
    public var database: URL
    public var model: URL
    public var quietPeriod: TimeInterval
    public var workerThreads: Int
    /// Store's rule language: global>=N, rise>=N, zone-rise>=N.
    public var alertRules: [AlertRule]
    /// |global delta| >= threshold is worse/better, else stable.
    public var trendThreshold: Int
    public var outputs: Set<OutputKind>
    public var deleteInsteadOfArchive: Bool
    /// A file is taken only once its size and mtime have not changed for this long.
    public var stabilityPeriod: TimeInterval
    /// Full inbox rescan interval (fallback for missed inotify events).
    public var rescanInterval: TimeInterval
    /// A failed job is retried this long after it failed.
    public var retryDelay: TimeInterval
    /// Claims of one study (crashes included) before its job is set to failed.
    public var maxAttempts: Int
    /// Worker deaths while holding one study before it is quarantined as poison.
    public var maxCrashes: Int = 3
    /// A stable file that cannot be read is quarantined only once it has not changed for this long and
    /// no process holds it open for writing (a paused sender is waited for). `run --once` does not wait.
    public var incompleteFileGrace: TimeInterval = 120
    /// Group (name or number) given to the folders and files Brixia creates, so a PACS sender's
    /// account can drop into the inbox (folders 2770, files 0660); nil = private (0700 / 0600).
    public var fileGroup: String? = nil
    /// Executable run once per fired alert (nil = none); see AlertHook.
    public var alertHook: URL? = nil
    /// Storage SCP and PACS destinations (NetworkSettings.swift); off unless configured.
    public var network = NetworkSettings()
    /// Web console and HTTP API (HTTPSettings.swift); nil = off (the default).
    public var http: HTTPSettings? = nil
    /// Explanation maps as an extra Secondary Capture, computed after the scores at low priority (off by default).
    public var explain: Bool = false
    /// SLIC super-pixels over the whole image for the explanation maps.
    public var explainSegments: Int = 180

    public static func defaults(workDir: URL) -> PipelineConfig {
        PipelineConfig(
            inbox: workDir.appendingPathComponent("inbox"), outbox: workDir.appendingPathComponent("outbox"),
            archive: workDir.appendingPathComponent("archive"), quarantine: workDir.appendingPathComponent("quarantine"),
            database: workDir.appendingPathComponent("brixia.sqlite"), model: workDir.appendingPathComponent("model"),
            quietPeriod: 10, workerThreads: defaultWorkerThreads, alertRules: AlertRule.defaults, trendThreshold: 2, outputs: [.sr, .sc],
            deleteInsteadOfArchive: false, stabilityPeriod: 2, rescanInterval: 30, retryDelay: 60, maxAttempts: 3)
    }
}

/// Keys of the JSON config file (every key optional; relative paths are relative to the file).
public struct ConfigFile: Sendable, Equatable, Codable {
    public var workDir: String?
    public var inbox: String?
    public var outbox: String?
    public var archive: String?
    public var quarantine: String?
    public var database: String?
    public var model: String?
    public var quietPeriodSeconds: Double?
    public var workerThreads: Int?
    public var alertRules: [String]?
    public var trendThreshold: Int?
    public var outputs: [String]?
    public var deleteInsteadOfArchive: Bool?
    public var stabilitySeconds: Double?
    public var rescanIntervalSeconds: Double?
    public var retryDelaySeconds: Double?
    public var maxAttempts: Int?
    public var alertHook: String?
    public var explain: Bool?
    public var explainSegments: Int?
    public var maxCrashes: Int?
    public var incompleteFileSeconds: Double?
    public var fileGroup: String?
    public init() {}
}

/// Settings given on the command line (nil = not given).
public struct ConfigOverrides: Sendable, Equatable {
    public var workDir: String?
    public var inbox: String?
    public var outbox: String?
    public var archive: String?
    public var quarantine: String?
    public var database: String?
    public var model: String?
    public var quietPeriodSeconds: Double?
    public var workerThreads: Int?
    public var outputs: [String]?
    public var deleteInsteadOfArchive: Bool?
    public var alertRules: [String]?
    public var trendThreshold: Int?
    public var alertHook: String?
    public init() {}
}

public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum ConfigResolver {
    /// Environment variable names (documented in docs/operations.md).
    public static let environmentKeys = [
        "BRIXIA_CONFIG", "BRIXIA_WORK_DIR", "BRIXIA_INBOX", "BRIXIA_OUTBOX", "BRIXIA_ARCHIVE", "BRIXIA_QUARANTINE",
        "BRIXIA_DB", "BRIXIA_MODEL", "BRIXIA_QUIET_SECONDS", "BRIXIA_THREADS", "BRIXIA_OUTPUTS",
        "BRIXIA_DELETE_INPUTS", "BRIXIA_ALERT_RULES", "BRIXIA_TREND_THRESHOLD", "BRIXIA_ALERT_HOOK", "BRIXIA_EXPLAIN",
    ]

    static let knownFileKeys: Set<String> = Set([
        "workDir", "inbox", "outbox", "archive", "quarantine", "database", "model", "quietPeriodSeconds", "workerThreads",
        "alertRules", "trendThreshold", "outputs", "deleteInsteadOfArchive", "stabilitySeconds", "rescanIntervalSeconds",
        "retryDelaySeconds", "maxAttempts", "alertHook", "explain", "explainSegments", "maxCrashes",
        "incompleteFileSeconds", "fileGroup",
    ]).union(NetworkSettings.fileKeys).union(HTTPSettings.fileKeys)

    /// Resolves flags > environment > file > defaults. `configPath` is the --config flag.
    /// `shippedModel` finds the default model (DefaultModel); tests pass their own.
    public static func resolve(flags: ConfigOverrides, configPath: String?, environment: [String: String],
                               currentDirectory: URL,
                               shippedModel: () -> URL? = { DefaultModel.locate() }) throws -> PipelineConfig {
        let cwd = currentDirectory
        var file = ConfigFile()
        var fileBase = cwd
        var networkFile = NetworkConfigFile()
        var httpFile = HTTPConfigFile()
        if let path = configPath ?? environment["BRIXIA_CONFIG"] {
            let url = absolute(path, base: cwd)
            var data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw ConfigError("cannot read config file \(url.path): \(error.localizedDescription)")
            }
            // JSON, or the simple "key = value" form (Samples/brixia.conf.example).
            let trimmed = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.hasPrefix("{") { data = try keyValueAsJSON(trimmed, file: url.path) }
            // A misspelt key must not silently fall back to a default.
            if let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                let unknown = Set(obj.keys).subtracting(knownFileKeys)
                if !unknown.isEmpty {
                    throw ConfigError("config file \(url.path) has unknown keys: \(unknown.sorted().joined(separator: ", "))")
                }
            }
            do {
                file = try JSONDecoder().decode(ConfigFile.self, from: data)
                networkFile = try JSONDecoder().decode(NetworkConfigFile.self, from: data)
                httpFile = try JSONDecoder().decode(HTTPConfigFile.self, from: data)
            } catch {
                throw ConfigError("config file \(url.path) is not valid: \(describe(error))")
            }
            fileBase = url.deletingLastPathComponent()
        }
        let env = try environmentOverrides(environment)

        // Work dir first: the folder defaults hang off it.
        let workDir: URL
        if let w = flags.workDir { workDir = absolute(w, base: cwd) }
        else if let w = env.workDir { workDir = absolute(w, base: cwd) }
        else if let w = file.workDir { workDir = absolute(w, base: fileBase) }
        else { workDir = cwd.appendingPathComponent("brixia-work") }
        var c = PipelineConfig.defaults(workDir: workDir)

        func path(_ f: String?, _ e: String?, _ fl: String?, _ d: URL) -> URL {
            if let fl { return absolute(fl, base: cwd) }
            if let e { return absolute(e, base: cwd) }
            if let f { return absolute(f, base: fileBase) }
            return d
        }
        c.inbox = path(file.inbox, env.inbox, flags.inbox, c.inbox)
        c.outbox = path(file.outbox, env.outbox, flags.outbox, c.outbox)
        c.archive = path(file.archive, env.archive, flags.archive, c.archive)
        c.quarantine = path(file.quarantine, env.quarantine, flags.quarantine, c.quarantine)
        c.database = path(file.database, env.database, flags.database, c.database)
        c.model = path(file.model, env.model, flags.model, c.model)
        // Nothing configured and nothing at <workDir>/model: the shipped default model.
        if file.model == nil, env.model == nil, flags.model == nil,
           !FileManager.default.fileExists(atPath: c.model.appendingPathComponent("model.json").path),
           let shipped = shippedModel() {
            c.model = shipped
        }
        if let v = flags.quietPeriodSeconds ?? env.quietPeriodSeconds ?? file.quietPeriodSeconds {
            guard v >= 0 else { throw ConfigError("quiet period must be >= 0 seconds, got \(v)") }
            c.quietPeriod = v
        }
        if let v = flags.workerThreads ?? env.workerThreads ?? file.workerThreads {
            guard v >= 1 else { throw ConfigError("worker threads must be >= 1, got \(v)") }
            c.workerThreads = v
        }
        if let list = flags.outputs ?? env.outputs ?? file.outputs { c.outputs = try parseOutputs(list) }
        if let v = flags.deleteInsteadOfArchive ?? env.deleteInsteadOfArchive ?? file.deleteInsteadOfArchive {
            c.deleteInsteadOfArchive = v
        }
        if let specs = flags.alertRules ?? env.alertRules ?? file.alertRules {
            c.alertRules = try specs.map(\.trimmed).filter { !$0.isEmpty }.map { spec in
                do { return try AlertRule(spec: spec) } catch { throw ConfigError("\(error)") }
            }
        }
        if let v = flags.trendThreshold ?? env.trendThreshold ?? file.trendThreshold {
            guard v >= 1 else { throw ConfigError("trend threshold must be >= 1, got \(v)") }
            c.trendThreshold = v
        }
        if let v = file.maxAttempts {
            guard v >= 1 else { throw ConfigError("maxAttempts must be >= 1, got \(v)") }
            c.maxAttempts = v
        }
        if let v = file.maxCrashes {
            guard v >= 1 else { throw ConfigError("maxCrashes must be >= 1, got \(v)") }
            c.maxCrashes = v
        }
        if let v = file.incompleteFileSeconds {
            guard v >= 0 else { throw ConfigError("incompleteFileSeconds must be >= 0, got \(v)") }
            c.incompleteFileGrace = v
        }
        if let g = file.fileGroup?.trimmed, !g.isEmpty { c.fileGroup = g }
        if let v = file.stabilitySeconds { c.stabilityPeriod = max(0, v) }
        if let v = file.rescanIntervalSeconds { c.rescanInterval = max(0.2, v) }
        if let v = file.retryDelaySeconds { c.retryDelay = max(0, v) }
        try ExplainSettings.apply(file: file, environment: environment, to: &c)
        if let h = flags.alertHook ?? env.alertHook { c.alertHook = absolute(h, base: cwd) }
        else if let h = file.alertHook { c.alertHook = absolute(h, base: fileBase) }
        if let h = c.alertHook, !FileManager.default.isExecutableFile(atPath: h.path) {
            throw ConfigError("alert hook \(h.path) is not an executable file")
        }

        let folders = [("inbox", c.inbox), ("outbox", c.outbox), ("archive", c.archive), ("quarantine", c.quarantine)]
        for (i, a) in folders.enumerated() {
            for b in folders[(i + 1)...] where a.1.standardizedFileURL.path == b.1.standardizedFileURL.path {
                throw ConfigError("\(a.0) and \(b.0) must be different folders (both are \(a.1.path))")
            }
        }
        for (name, dir) in folders.dropFirst() where isInside(dir, c.inbox) {
            throw ConfigError("\(name) (\(dir.path)) must not be inside the inbox (\(c.inbox.path))")
        }
        c.network = try NetworkSettings.resolve(networkFile, inbox: c.inbox)
        c.http = try HTTPSettings.resolve(httpFile, fileBase: fileBase, workDir: workDir)
        return c
    }

    /// Names accepted in "key = value" files (snake_case aliases of the JSON keys).
    static let keyAliases: [String: String] = [
        "work_dir": "workDir", "db": "database", "quiet_period": "quietPeriodSeconds", "quiet_period_seconds": "quietPeriodSeconds",
        "threads": "workerThreads", "worker_threads": "workerThreads", "alert_rules": "alertRules",
        "trend_threshold": "trendThreshold", "delete_inputs": "deleteInsteadOfArchive",
        "delete_instead_of_archive": "deleteInsteadOfArchive", "stability_seconds": "stabilitySeconds",
        "rescan_interval": "rescanIntervalSeconds", "rescan_interval_seconds": "rescanIntervalSeconds",
        "retry_delay": "retryDelaySeconds", "retry_delay_seconds": "retryDelaySeconds", "max_attempts": "maxAttempts",
        "alert_hook": "alertHook", "explain_segments": "explainSegments", "max_crashes": "maxCrashes",
        "incomplete_file_seconds": "incompleteFileSeconds", "file_group": "fileGroup",
    ]

    /// Converts `key = value` lines ('#' comments) into the JSON form, typing values by key.
    static func keyValueAsJSON(_ text: String, file: String) throws -> Data {
        let numbers = Set(["quietPeriodSeconds", "stabilitySeconds", "rescanIntervalSeconds", "retryDelaySeconds",
                           "incompleteFileSeconds"])
            .union(NetworkSettings.numberKeys)
        let ints = Set(["workerThreads", "trendThreshold", "maxAttempts", "explainSegments", "maxCrashes"]).union(NetworkSettings.intKeys)
            .union(HTTPSettings.intKeys)
        let lists = Set(["outputs", "alertRules"]).union(NetworkSettings.listKeys)
        var obj: [String: Any] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?.trimmed ?? ""
            if line.isEmpty { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigError("config file \(file) line \(n + 1): expected key = value, got '\(line)'")
            }
            let rawKey = String(line[..<eq]).trimmed, value = String(line[line.index(after: eq)...]).trimmed
            let key = keyAliases[rawKey] ?? NetworkSettings.keyAliases[rawKey] ?? HTTPSettings.keyAliases[rawKey] ?? rawKey
            func bad(_ what: String) -> ConfigError { ConfigError("config file \(file) line \(n + 1): \(rawKey) must be \(what), got '\(value)'") }
            if numbers.contains(key) { guard let v = Double(value) else { throw bad("a number") }; obj[key] = v }
            else if ints.contains(key) { guard let v = Int(value) else { throw bad("an integer") }; obj[key] = v }
            else if lists.contains(key) { obj[key] = value.split(separator: ",").map { String($0).trimmed } }
            else if key == "deleteInsteadOfArchive" || key == "explain" || NetworkSettings.boolKeys.contains(key)
                        || HTTPSettings.boolKeys.contains(key) {
                switch value.lowercased() {
                case "1", "true", "yes": obj[key] = true
                case "0", "false", "no": obj[key] = false
                default: throw bad("true or false")
                }
            } else { obj[key] = value }
        }
        return try JSONSerialization.data(withJSONObject: obj)
    }

    static func environmentOverrides(_ e: [String: String]) throws -> ConfigOverrides {
        var o = ConfigOverrides()
        o.workDir = e["BRIXIA_WORK_DIR"]; o.inbox = e["BRIXIA_INBOX"]; o.outbox = e["BRIXIA_OUTBOX"]
        o.archive = e["BRIXIA_ARCHIVE"]; o.quarantine = e["BRIXIA_QUARANTINE"]; o.database = e["BRIXIA_DB"]
        o.model = e["BRIXIA_MODEL"]
        if let s = e["BRIXIA_QUIET_SECONDS"] {
            guard let v = Double(s) else { throw ConfigError("BRIXIA_QUIET_SECONDS is not a number: \(s)") }
            o.quietPeriodSeconds = v
        }
        if let s = e["BRIXIA_THREADS"] {
            guard let v = Int(s) else { throw ConfigError("BRIXIA_THREADS is not an integer: \(s)") }
            o.workerThreads = v
        }
        if let s = e["BRIXIA_OUTPUTS"] { o.outputs = s.split(separator: ",").map { String($0) } }
        if let s = e["BRIXIA_DELETE_INPUTS"] {
            switch s.lowercased() {
            case "1", "true", "yes": o.deleteInsteadOfArchive = true
            case "0", "false", "no": o.deleteInsteadOfArchive = false
            default: throw ConfigError("BRIXIA_DELETE_INPUTS must be true or false, got \(s)")
            }
        }
        if let s = e["BRIXIA_ALERT_RULES"] { o.alertRules = s.split(separator: ",").map(String.init) }
        if let s = e["BRIXIA_ALERT_HOOK"], !s.isEmpty { o.alertHook = s }
        if let s = e["BRIXIA_TREND_THRESHOLD"] {
            guard let v = Int(s) else { throw ConfigError("BRIXIA_TREND_THRESHOLD is not an integer: \(s)") }
            o.trendThreshold = v
        }
        return o
    }

    public static func parseOutputs(_ list: [String]) throws -> Set<OutputKind> {
        var out = Set<OutputKind>()
        for raw in list {
            let s = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if s.isEmpty { continue }
            guard let k = OutputKind(rawValue: s) else {
                throw ConfigError("unknown output kind '\(raw)' (known: sr, sc)")
            }
            out.insert(k)
        }
        guard !out.isEmpty else { throw ConfigError("at least one output kind (sr, sc) is required") }
        return out
    }

    static func absolute(_ p: String, base: URL) -> URL {
        let expanded = (p as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL }
        return base.appendingPathComponent(expanded).standardizedFileURL
    }

    static func isInside(_ child: URL, _ parent: URL) -> Bool {
        let c = child.standardizedFileURL.path, p = parent.standardizedFileURL.path
        return c.hasPrefix(p.hasSuffix("/") ? p : p + "/")
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx),
             DecodingError.keyNotFound(_, let ctx), DecodingError.dataCorrupted(let ctx):
            let key = ctx.codingPath.map { $0.stringValue }.joined(separator: ".")
            return key.isEmpty ? ctx.debugDescription : "\(key): \(ctx.debugDescription)"
        default: return "\(error)"
        }
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
