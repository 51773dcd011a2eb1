import ArgumentParser
import DicomNetwork
import Foundation
import HTTPConsole
import Logging
import Pipeline
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run as a daemon: watch the inbox, process each study after its quiet period, until SIGTERM/SIGINT.",
        discussion: """
            On SIGTERM/SIGINT the study in hand is finished, then the process exits 0. After a crash or SIGKILL the \
            next start re-queues it. With `scpPort` in the config file a DICOM storage SCP receives studies into the \
            inbox (only from the calling AE titles in `scpAllowedCallingAETitles`, or from anyone with \
            `scpAllowAnyCaller = true`; it listens only on `scpBindAddress`); with `destinations` every finished \
            study's SR and SC are queued and sent to each PACS, with retries (see docs/pacs.md). With `httpPort` the \
            web console and HTTP API listen on `httpAddress` (default 127.0.0.1), for the users in `httpUsersFile` \
            (`brixia user add`; see docs/http-api.md). Exit status: 0 after \
            SIGTERM/SIGINT, 2 configuration or storage problem at start, 75 another serve/run holds the database, \
            1 other error (e.g. the SCP port cannot be opened).

            Examples:
              brixia serve --config /etc/brixia/brixia.conf
              brixia serve --work-dir /srv/brixia --quiet-seconds 30 --log-level debug
            """)

    @OptionGroup var options: PipelineOptions

    func run() async throws { try await Self.serve(options) }

    static func serve(_ options: PipelineOptions) async throws {
        let logger = options.bootstrapLogging()
        let (runner, writerLock) = try options.makeRunner(logger: logger)
        defer { withExtendedLifetime(writerLock) {} }   // held for the life of the service
        let console = try consoleService(runner: runner, logger: logger)
        do {
            try await PipelineDaemon.run(runner: runner, logger: logger, extraServices: console)
        } catch let e as DicomNetworkError {
            FileHandle.standardError.write(Data("brixia serve: \(e)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The web console, when `httpPort` is configured; a missing or empty users file stops the start (exit 2):
    /// no patient data is served without a login.
    static func consoleService(runner: PipelineRunner, logger: Logger) throws -> [any Service] {
        let cfg = runner.engine.config
        guard let http = cfg.http else { return [] }
        let store = runner.sharedStore
        let console = ConsoleConfig(address: http.address, port: http.port, usersFile: http.usersFile,
                                    secureCookies: http.secureCookies,
                                    destinations: cfg.network.destinations, outgoingPolicy: cfg.network.retry)
        do {
            return [try ConsoleService(config: console, store: store, logger: logger)]
        } catch {
            FileHandle.standardError.write(Data("brixia serve: web console: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
