import ArgumentParser

@main
struct Brixia: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brixia",
        abstract: "Brixia: BS-Net COVID-19 pneumonia severity scoring for chest X-rays (AI-generated, not for diagnostic use).",
        subcommands: [InspectCommand.self, ModelCommand.self, EchoCommand.self, SendCommand.self, ReceiveCommand.self]
    )
}
