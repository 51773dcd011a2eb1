import ArgumentParser
import DicomNetwork
import Foundation
import Store

/// `brixia send FILE... --to AE@HOST:PORT [--aet OURAE] [--queue DB]`: C-STORE files to a PACS.
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send DICOM files to a PACS with C-STORE.",
        discussion: """
        Without --queue the files go over one association now. With --queue DB they are added to the persistent
        outgoing queue in DB (SQLite) and one delivery round is attempted; what fails stays queued for the daemon.
        With --retry-failed (needs --queue, no files) the items marked failed for --to (e.g. after the PACS was down \
        longer than the retry window) are put back to pending and one delivery round is attempted; `brixia serve` \
        sends what is left.
        Exit status: 0 all stored, 3 cannot connect, 4 association rejected, 5 refused by the PACS (DIMSE status /
        no presentation context), 6 unreadable file, 7 left pending in the queue, 1 other error.

        Examples:
          brixia send brixia-work/outbox/*.dcm --to PACS@pacs.example.org:104
          brixia send report.dcm --to PACS@10.0.0.5:11112 --queue brixia-work/brixia.sqlite
          brixia send --retry-failed --to PACS@10.0.0.5:11112 --queue brixia-work/brixia.sqlite
        """
    )

    @Argument(help: "DICOM files.") var files: [String] = []
    @Option(help: "Destination as AE@HOST:PORT.") var to: String
    @Option(help: "Our (calling) AE title.") var aet = "BRIXIA"
    @Option(help: "Connect/association/DIMSE timeout in seconds.") var timeout = 30
    @Option(help: "Queue database (SQLite): enqueue, try once, keep failures for retry.") var queue: String?
    @Flag(name: .customLong("retry-failed"), help: "Put the queue's failed items for --to back to pending and try once (needs --queue).")
    var retryFailed = false

    func validate() throws {
        if retryFailed {
            guard queue != nil else { throw ValidationError("--retry-failed needs --queue DB") }
            guard files.isEmpty else { throw ValidationError("--retry-failed takes no files") }
        } else if files.isEmpty {
            throw ValidationError("no files to send")
        }
    }

    func run() throws {
        do {
            let node = try DicomNode(parsing: to)
            let scu = try DicomSCU(callingAETitle: aet, timeoutSeconds: timeout)
            if let queue { try runQueued(node: node, scu: scu, database: queue); return }
            let outcomes = try scu.store(files, to: node)
            var worst: Int32 = 0
            for o in outcomes {
                if let e = o.error {
                    print("FAILED \(o.path): \(e)")
                    let c = NetworkExit.code(for: e)
                    if worst == 0 || c < worst { worst = c }
                } else {
                    print("stored \(o.path) (\(o.sopInstanceUID)) -> \(node)")
                }
            }
            if worst != 0 { throw ExitCode(worst) }
        } catch let e as DicomNetworkError {
            FileHandle.standardError.write(Data("brixia send: \(e)\n".utf8))
            throw ExitCode(NetworkExit.code(for: e))
        } catch let e as StoreError {
            FileHandle.standardError.write(Data("brixia send: \(e)\n".utf8))
            throw ExitCode.failure
        }
    }

    private func runQueued(node: DicomNode, scu: DicomSCU, database: String) throws {
        let store = try BrixiaStore(path: database)
        let q = OutgoingQueue(store: store)
        var items = try files.map { try q.enqueue(path: $0, to: node) }
        if retryFailed {
            let failed = try store.outgoingItems(state: .failed, destination: node.description)
            try store.retryFailedOutgoing(destination: node.description, actor: "cli:send")
            print("re-queued \(failed.count) failed item(s) for \(node)")
            items = failed
        }
        try OutgoingSender(queue: q, scu: scu).runOnce()
        let ids = Set(items.map(\.id))
        let now = try store.outgoingItems(destination: node.description).filter { ids.contains($0.id) }
        for i in now {
            switch i.state {
            case .sent: print("sent \(i.path) (\(i.sopInstanceUID)) -> \(i.destination)")
            case .pending: print("pending \(i.path): \(i.lastError ?? "not yet attempted"); next attempt \(i.nextAttemptAt)")
            case .failed: print("FAILED \(i.path): \(i.lastError ?? "")")
            }
        }
        if now.contains(where: { $0.state == .failed }) { throw ExitCode(NetworkExit.refused) }
        if now.contains(where: { $0.state == .pending }) { throw ExitCode(NetworkExit.queued) }
    }
}
