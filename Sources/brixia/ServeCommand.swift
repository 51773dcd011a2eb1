import ArgumentParser
import DicomNetwork
import Foundation
import Logging
import Pipeline

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run as a daemon: watch the inbox, process each study after its quiet period, until SIGTERM/SIGINT.",
        discussion: """
            On SIGTERM/SIGINT the study in hand is finished, then the process exits 0. After a crash or SIGKILL the \
            next start re-queues it. With `scpPort` in the config file a DICOM storage SCP receives studies into the \
            inbox (only from the calling AE titles in `scpAllowedCallingAETitles`, or from anyone with \
            `scpAllowAnyCaller = true`; it listens only on `scpBindAddress`); with `destinations` every finished \
            study's SR and SC are queued and sent to each PACS, with retries (see docs/pacs.md). Exit status: 0 after \
            SIGTERM/SIGINT, 2 configuration or storage problem at start, 75 another serve/run holds the database, \
            1 other error (e.g. the SCP port cannot be opened).
            """)

    @OptionGroup var options: PipelineOptions

    func run() throws { try Self.serve(options) }

    static func serve(_ options: PipelineOptions) throws {
        let logger = options.bootstrapLogging()
        let runner = try options.makeRunner(logger: logger)
        do {
            try blockingAwait { try await PipelineDaemon.run(runner: runner, logger: logger) }
        } catch let e as DicomNetworkError {
            FileHandle.standardError.write(Data("brixia serve: \(e)\n".utf8))
            throw ExitCode(1)
        }
    }
}
