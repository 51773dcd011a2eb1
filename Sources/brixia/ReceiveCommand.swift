import ArgumentParser
import DicomNetwork
import Foundation

/// `brixia receive --aet AE --port N --inbox DIR [--allow AE,...]`: runs only the storage SCP.
struct ReceiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Run the DICOM storage SCP only: received CR/DX/SC instances land in the inbox.",
        discussion: """
        Files are written atomically as INBOX/<StudyInstanceUID>/<SOPInstanceUID>.dcm (staging in INBOX/.staging).
        Runs until SIGINT/SIGTERM, or for --seconds when given; prints one line when listening.
        """
    )

    @Option(help: "Our AE title (called AE title peers must use).") var aet = "BRIXIA"
    @Option(help: "TCP port.") var port: UInt16 = 11112
    @Option(help: "Inbox folder.") var inbox: String
    @Option(help: "Comma-separated calling AE titles allowed to connect (default: any).") var allow: String?
    @Option(help: "0.0.0.0 (all interfaces) or 127.0.0.1 (loopback peers only).") var bind = "0.0.0.0"
    @Option(help: "Maximum concurrent associations.") var maxAssociations = 8
    @Option(help: "Association/DIMSE timeout in seconds.") var timeout = 30
    @Option(help: "Stop after this many seconds (for scripts).") var seconds: Double?

    func run() throws {
        let allowed = (allow ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let config = StorageSCPConfig(aeTitle: aet, port: port, inbox: inbox, bindAddress: bind,
                                      allowedCallingAETitles: allowed, maxAssociations: maxAssociations,
                                      timeoutSeconds: timeout)
        let scp: StorageSCP
        do {
            scp = try StorageSCP(config: config)
            try scp.start()
        } catch {
            FileHandle.standardError.write(Data("brixia receive: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("brixia receive: listening as \(aet) on port \(port), inbox \(inbox)" +
              (allowed.isEmpty ? "" : ", allowed callers \(allowed.joined(separator: ","))"))
        fflush(stdout)
        let done = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { done.signal() }
            s.resume()
            sources.append(s)
        }
        if let seconds { _ = done.wait(timeout: .now() + seconds) } else { done.wait() }
        scp.stop()
        let st = scp.stats
        print("brixia receive: stopped; stored \(st.stored), failed \(st.failed), rejected associations \(st.rejectedAssociations)")
        _ = sources
    }
}
