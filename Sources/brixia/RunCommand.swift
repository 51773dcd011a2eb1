import ArgumentParser
import Foundation
import Logging
import Pipeline
import Store

/// Flags shared by `run` and `serve` (precedence: flags > BRIXIA_* environment > --config file > defaults).
struct PipelineOptions: ParsableArguments {
    @Option(help: "Configuration file, JSON or key = value (keys: `brixia config keys`, docs/configuration.md). Env: BRIXIA_CONFIG.")
    var config: String?
    // Help texts, defaults and variables come from the configuration table (ConfigTable.keys).
    @Option(name: .customLong("work-dir"), help: .setting("workDir")) var workDir: String?
    @Option(help: .setting("inbox")) var inbox: String?
    @Option(help: .setting("outbox")) var outbox: String?
    @Option(help: .setting("archive")) var archive: String?
    @Option(help: .setting("quarantine")) var quarantine: String?
    @Option(name: .customLong("db"), help: .setting("database")) var database: String?
    @Option(help: .setting("model")) var model: String?
    @Option(name: .customLong("quiet-seconds"), help: .setting("quietPeriodSeconds")) var quietSeconds: Double?
    @Option(help: .setting("workerThreads")) var threads: Int?
    @Option(help: .setting("outputs")) var outputs: String?
    @Flag(name: .customLong("delete-inputs"), help: .setting("deleteInsteadOfArchive")) var deleteInputs = false
    @Option(name: .customLong("alert-rules"), help: .setting("alertRules")) var alertRules: String?
    @Option(name: .customLong("trend-threshold"), help: .setting("trendThreshold")) var trendThreshold: Int?
    @Option(name: .customLong("alert-hook"), help: .setting("alertHook")) var alertHook: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (default info). Patient IDs appear only at debug.")
    var logLevel: String = "info"
    @Flag(name: .customLong("create-folders"), help: "Create the inbox when it does not exist (without it a missing inbox is an error: a mistyped path must not silently watch a new empty folder).")
    var createFolders = false

    func resolve() throws -> PipelineConfig {
        var o = ConfigOverrides()
        o["workDir"] = workDir; o["inbox"] = inbox; o["outbox"] = outbox; o["archive"] = archive; o["quarantine"] = quarantine
        o["database"] = database; o["model"] = model; o["quietPeriodSeconds"] = quietSeconds.map { String($0) }
        o["workerThreads"] = threads.map { String($0) }; o["outputs"] = outputs
        o["deleteInsteadOfArchive"] = deleteInputs ? "true" : nil
        o["alertRules"] = alertRules; o["trendThreshold"] = trendThreshold.map { String($0) }; o["alertHook"] = alertHook
        return try ConfigResolver.resolve(flags: o, configPath: config, environment: ProcessInfo.processInfo.environment,
                                          currentDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }

    func bootstrapLogging() -> Logger {
        let level = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var h = SafeLogHandler(inner: StreamLogHandler.standardError(label: label))
            h.logLevel = level
            return h
        }
        return Logger(label: "brixia")
    }

    /// Resolves the config, takes the database's writer lock and builds the production pipeline.
    /// Configuration and storage problems at start end the process with status 2 and one plain line
    /// naming the file and the reason; another serve/run on the same database with status 75.
    /// Returns the runner and the database's writer lock, which the caller holds until it exits.
    func makeRunner(logger: Logger) throws -> (PipelineRunner, DatabaseLock) {
        do {
            let cfg = try resolve()
            let group = try FilePrivacy.apply(group: cfg.fileGroup)
            if FileKind.of(cfg.inbox.path) != .directory {
                guard createFolders, FileKind.of(cfg.inbox.path) == .missing else {
                    throw ConfigError("inbox \(cfg.inbox.path) is not an existing folder (a mistyped path?); create it, "
                                      + "or pass --create-folders to let brixia create it")
                }
            }
            try FileOps.ensureDirectory(cfg.database.deletingLastPathComponent())
            let writerLock = try DatabaseLock(database: cfg.database)
            let deps = try ProductionPipeline.make(config: cfg, logger: logger, workerExecutable: Bundle.main.executableURL)
            let engine = PipelineEngine(config: cfg, dependencies: deps, logger: logger)
            try engine.prepareFolders()
            try FilePrivacy.secureFolders([cfg.inbox, cfg.outbox, cfg.archive, cfg.quarantine], group: group)
            return (PipelineRunner(engine: engine, logger: logger), writerLock)
        } catch let e as DatabaseLock.Busy {
            FileHandle.standardError.write(Data("brixia: \(e.description)\n".utf8))
            throw ExitCode(PipelineOptions.databaseBusyStatus)
        } catch let e as ConfigError {
            FileHandle.standardError.write(Data("brixia: \(e.description)\n".utf8))
            throw ExitCode(2)
        } catch let e as StoreError {
            FileHandle.standardError.write(Data("brixia: \(e.description)\n".utf8))
            throw ExitCode(2)
        } catch let e as FileOpError {
            FileHandle.standardError.write(Data("brixia: cannot prepare folders: \(e.description)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Exit status when another `serve`/`run` holds the database (EX_TEMPFAIL: try again later).
    static let databaseBusyStatus: Int32 = 75
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Process the inbox: with --once, everything present now, then exit with a summary.",
        discussion: """
            Exit status: 0 when every file ended in the archive, the quarantine or the outputs; 1 when a study \
            failed or files were left in the inbox (internal failure); 2 on a configuration or storage problem at \
            start (no model, missing inbox, database not openable; the message names the file); 75 when another \
            `brixia serve` or `run` holds the same database. Without --once it runs as the daemon (same as `brixia serve`).

            Progress (n/N studies, elapsed, ETA, the file) goes to stderr: one redrawn line on a terminal, plain lines \
            otherwise. The summary on stdout lists every study with its outcome, score, alerts or reason; --json \
            gives the same for scripts.

            A study whose input cannot be scored or reported is quarantined at once; one that fails for a \
            transient reason (disk full, read-only outbox) is retried with back-off up to maxAttempts and then \
            stays failed, inputs kept in the inbox, until `brixia retry`.

            Examples:
              brixia run --once                              # ./brixia-work/inbox, the shipped model
              brixia run --once --work-dir /srv/brixia --model /srv/brixia/model
              brixia run --once --config /etc/brixia/brixia.conf --json > summary.json
            """)

    @OptionGroup var options: PipelineOptions
    @Flag(help: "Process what is in the inbox now (no quiet period) and exit.") var once = false
    @Flag(help: "With --once: print the summary as JSON (counts, each study's outcome, scores, alerts, reasons, elapsed time) on stdout.")
    var json = false

    func validate() throws {
        if json && !once { throw ValidationError("--json goes with --once (the daemon logs instead)") }
    }

    func run() async throws {
        guard once else { return try await ServeCommand.serve(options) }
        let logger = options.bootstrapLogging()
        let (runner, writerLock) = try options.makeRunner(logger: logger)
        defer { withExtendedLifetime(writerLock) {} }   // until this command ends, another run or serve on this database is refused
        let summary = try await runner.runOnce(progress: { TerminalProgress.shared.update($0.line) })
        TerminalProgress.shared.finish()
        let report = RunReport(summary: summary, database: runner.engine.config.database.path)
        print(json ? report.json() : report.text())
        OutgoingReport.deliverOnce(config: runner.engine.config, queue: runner.outgoing, logger: logger)
        if !summary.isClean { throw ExitCode(1) }
    }
}

extension ArgumentHelp {
    /// A flag's help from its row of the configuration table: meaning, default and environment variable.
    static func setting(_ key: String) -> ArgumentHelp { ArgumentHelp(ConfigTable.key(key).flagHelp) }
}
