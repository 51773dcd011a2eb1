import ArgumentParser
import Foundation
import Logging
import Pipeline

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run as a daemon: watch the inbox, process each study after its quiet period, until SIGTERM/SIGINT.",
        discussion: "On SIGTERM/SIGINT the study in hand is finished, then the process exits 0. After a crash or SIGKILL the next start re-queues it.")

    @OptionGroup var options: PipelineOptions

    func run() throws { try Self.serve(options) }

    static func serve(_ options: PipelineOptions) throws {
        let logger = options.bootstrapLogging()
        let runner = try options.makeRunner(logger: logger)
        try blockingAwait { try await PipelineDaemon.run(runner: runner, logger: logger) }
    }
}
