import Foundation
import ModelBundle
import Store

/// The resolved configuration (defaults < file < environment < flags).
public struct PipelineConfig: Sendable, Equatable {
    /// One default for every command that runs the network (run, serve, score, explain): the table's.
    public static var defaultWorkerThreads: Int { Int(ConfigTable.key("workerThreads").defaultValue!)! }

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
    public var maxCrashes: Int
    /// A stable file that cannot be read is quarantined only once it has not changed for this long and
    /// no process holds it open for writing (a paused sender is waited for). `run --once` does not wait.
    public var incompleteFileGrace: TimeInterval
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
    public var explain: Bool
    /// SLIC super-pixels over the whole image for the explanation maps.
    public var explainSegments: Int

    /// The table's defaults (`ConfigTable`), folders inside `workDir`.
    public static func defaults(workDir: URL) -> PipelineConfig {
        // The table's defaults are valid by construction (ConfigurationTableTests checks every one).
        try! ConfigResolver.build(ConfigSources(defaultBase: workDir), workDir: workDir)
    }

    /// Placeholders only: `ConfigResolver.build` sets every member from the table and the sources.
    fileprivate init(placeholdersIn workDir: URL) {
        inbox = workDir; outbox = workDir; archive = workDir; quarantine = workDir; database = workDir; model = workDir
        quietPeriod = 0; workerThreads = 1; alertRules = []; trendThreshold = 1; outputs = []; deleteInsteadOfArchive = false
        stabilityPeriod = 0; rescanInterval = 0; retryDelay = 0; maxAttempts = 1; maxCrashes = 1; incompleteFileGrace = 0
        explain = false; explainSegments = 0
    }
}

public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum ConfigResolver {
    /// Environment variable names (generated from the table, plus BRIXIA_CONFIG).
    public static var environmentKeys: [String] {
        [ConfigTable.configFileEnvironment] + ConfigTable.keys.compactMap(\.environment)
    }

    /// Resolves flags > environment > file > defaults. `configPath` is the --config flag.
    /// `shippedModel` finds the default model (DefaultModel); tests pass their own.
    public static func resolve(flags: ConfigOverrides, configPath: String?, environment: [String: String],
                               currentDirectory: URL,
                               shippedModel: () -> URL? = { DefaultModel.locate() }) throws -> PipelineConfig {
        let cwd = currentDirectory
        var sources = ConfigSources(defaultBase: cwd)
        if let path = configPath ?? environment[ConfigTable.configFileEnvironment] {
            try sources.addFile(absolute(path, base: cwd))
        }
        try sources.addEnvironment(environment, base: cwd)
        try sources.addFlags(flags, base: cwd)
        // Work dir first: the folder defaults hang off it.
        let workDir = sources.path("workDir")!
        sources.defaultBase = workDir
        var c = try build(sources, workDir: workDir)
        // Nothing configured and nothing at <workDir>/model: the shipped default model.
        if !sources.isSet("model"), !FileManager.default.fileExists(atPath: c.model.appendingPathComponent("model.json").path),
           let shipped = shippedModel() {
            c.model = shipped
        }
        if let h = c.alertHook, !FileManager.default.isExecutableFile(atPath: h.path) {
            throw ConfigError("alert hook \(h.path) is not an executable file")
        }
        return c
    }

    /// The configuration from merged sources (table defaults for what nobody set), with the checks that span
    /// several keys. Touches no file.
    static func build(_ src: ConfigSources, workDir: URL) throws -> PipelineConfig {
        var c = PipelineConfig(placeholdersIn: workDir)
        c.inbox = src.path("inbox")!; c.outbox = src.path("outbox")!; c.archive = src.path("archive")!
        c.quarantine = src.path("quarantine")!; c.database = src.path("database")!
        c.model = src.path("model") ?? workDir.appendingPathComponent("model")
        c.quietPeriod = src.number("quietPeriodSeconds")!
        c.workerThreads = src.integer("workerThreads")!
        c.outputs = try parseOutputs(src.list("outputs")!)
        c.deleteInsteadOfArchive = src.bool("deleteInsteadOfArchive")!
        c.alertRules = try src.list("alertRules")!.map { spec in
            do { return try AlertRule(spec: spec) } catch { throw ConfigError("\(error)") }
        }
        c.trendThreshold = src.integer("trendThreshold")!
        c.alertHook = src.path("alertHook")
        c.stabilityPeriod = max(0, src.number("stabilitySeconds")!)
        c.rescanInterval = max(0.2, src.number("rescanIntervalSeconds")!)
        c.retryDelay = max(0, src.number("retryDelaySeconds")!)
        c.maxAttempts = src.integer("maxAttempts")!
        c.maxCrashes = src.integer("maxCrashes")!
        c.incompleteFileGrace = src.number("incompleteFileSeconds")!
        if let g = src.text("fileGroup"), !g.isEmpty { c.fileGroup = g }
        c.explain = src.bool("explain")!
        c.explainSegments = src.integer("explainSegments")!

        let folders = [("inbox", c.inbox), ("outbox", c.outbox), ("archive", c.archive), ("quarantine", c.quarantine)]
        for (i, a) in folders.enumerated() {
            for b in folders[(i + 1)...] where a.1.standardizedFileURL.path == b.1.standardizedFileURL.path {
                throw ConfigError("\(a.0) and \(b.0) must be different folders (both are \(a.1.path))")
            }
        }
        for (name, dir) in folders.dropFirst() where isInside(dir, c.inbox) {
            throw ConfigError("\(name) (\(dir.path)) must not be inside the inbox (\(c.inbox.path))")
        }
        c.network = try NetworkSettings.resolve(src, inbox: c.inbox)
        c.http = try HTTPSettings.resolve(src, workDir: workDir)
        return c
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
