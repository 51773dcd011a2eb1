import ArgumentParser
import Pipeline

@main
struct Brixia: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brixia",
        abstract: "Brixia: BS-Net COVID-19 pneumonia severity scoring for chest X-rays (AI-generated, not for diagnostic use).",
        version: ProductionPipeline.softwareVersion,
        subcommands: [InspectCommand.self, ScoreCommand.self, ModelCommand.self, InferCommand.self, BenchCommand.self, TrendCommand.self, StudiesCommand.self, ShowCommand.self, StatusCommand.self, RetryCommand.self, DevCommand.self, RunCommand.self, ServeCommand.self, ExplainCommand.self, ExplainWorkerCommand.self, EchoCommand.self, SendCommand.self, ReceiveCommand.self, ConfigCommand.self, UserCommand.self]
    )
}
