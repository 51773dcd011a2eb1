import ArgumentParser
import DicomNetwork
import Foundation

/// `brixia echo AE@HOST:PORT [--aet OURAE]`: DICOM C-ECHO (verification).
struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Verify a DICOM peer with C-ECHO.",
        discussion: "Exit status: 0 ok, 3 cannot connect, 4 association rejected, 5 echo refused, 1 other error." +
                "\n\nExamples:\n  brixia echo ORTHANC@127.0.0.1:4242\n  brixia echo PACS@pacs.example.org:104 --aet BRIXIA --timeout 5"
    )

    @Argument(help: "Peer as AE@HOST:PORT.") var peer: String
    @Option(help: "Our (calling) AE title.") var aet = "BRIXIA"
    @Option(help: "Connect/association/DIMSE timeout in seconds.") var timeout = 15

    func run() throws {
        do {
            let node = try DicomNode(parsing: peer)
            let start = Date()
            try DicomSCU(callingAETitle: aet, timeoutSeconds: timeout).echo(node)
            print("C-ECHO \(node): ok (\(Int(Date().timeIntervalSince(start) * 1000)) ms)")
        } catch let e as DicomNetworkError {
            FileHandle.standardError.write(Data("brixia echo: \(e)\n".utf8))
            throw ExitCode(NetworkExit.code(for: e))
        }
    }
}
