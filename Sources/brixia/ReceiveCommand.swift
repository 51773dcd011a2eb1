import ArgumentParser
import DicomNetwork
import Foundation

/// `brixia receive --aet AE --port N --inbox DIR --allow AE,... | --allow-any-caller`: runs only the storage SCP.
struct ReceiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Run the DICOM storage SCP only: received CR/DX/SC instances land in the inbox.",
        discussion: """
        Files are written atomically as INBOX/<StudyInstanceUID>/<SOPInstanceUID>.dcm (staging in INBOX/.staging).
        Runs until SIGINT/SIGTERM, or for --seconds when given; prints one line when listening and one with the \
        counters when it stops. Refuses to start without --allow (the calling AE titles that may send) unless \
        --allow-any-caller says so explicitly.

        Examples:
          brixia receive --port 11112 --inbox brixia-work/inbox --allow PACS,MODALITY1
          brixia receive --port 11112 --inbox /tmp/in --allow-any-caller --seconds 60
        """
    )

    @Option(help: "Our AE title (called AE title peers must use).") var aet = "BRIXIA"
    @Option(help: "TCP port.") var port: UInt16 = 11112
    @Option(help: "Inbox folder.") var inbox: String
    @Option(help: "Comma-separated calling AE titles allowed to connect (required unless --allow-any-caller).") var allow: String?
    @Flag(help: "Accept any calling AE title (only on a trusted network).") var allowAnyCaller = false
    @Option(help: "Numeric address to listen on: 0.0.0.0 (all IPv4 interfaces), 127.0.0.1 or ::1 (loopback only), or one local address.") var bind = "0.0.0.0"
    @Option(help: "Maximum concurrent associations.") var maxAssociations = 8
    @Option(help: "Association/DIMSE timeout in seconds.") var timeout = 30
    @Option(help: "Stop after this many seconds (for scripts).") var seconds: Double?

    func run() throws {
        let allowed = (allow ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !allowed.isEmpty || allowAnyCaller else {
            FileHandle.standardError.write(Data("""
                brixia receive: refusing to accept any calling AE title by default: add --allow AE[,AE...] with the AE \
                titles of the peers that send to us (e.g. --allow PACS,MODALITY1), or --allow-any-caller on a trusted network

                """.utf8))
            throw ExitCode(64)
        }
        let config = StorageSCPConfig(aeTitle: aet, port: port, inbox: inbox, bindAddress: bind,
                                      allowedCallingAETitles: allowed, allowAnyCaller: allowAnyCaller,
                                      maxAssociations: maxAssociations, timeoutSeconds: timeout)
        let scp: StorageSCP
        do {
            scp = try StorageSCP(config: config)
            try scp.start()
        } catch {
            FileHandle.standardError.write(Data("brixia receive: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("brixia receive: listening as \(aet) on \(bind.isEmpty ? "0.0.0.0" : bind) port \(port), inbox \(inbox), " +
              (allowed.isEmpty ? "any caller" : "allowed callers \(allowed.joined(separator: ","))"))
        fflush(nil)   // all C streams: the `stdout` global is not concurrency-safe to name in Swift 6
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
