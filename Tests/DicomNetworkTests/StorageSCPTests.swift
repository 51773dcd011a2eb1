import DicomKit
import Foundation
import Synchronization
import Store
import Testing
@testable import DicomNetwork

/// Our SCP against our SCU and DCMTK's storescu/echoscu (no PACS needed).
@Suite(.serialized) struct StorageSCPTests {
    func startSCP(_ tag: String, allow: [String] = ["MODALITY"], classes: [String] = StorageSOPClass.defaults) throws -> (StorageSCP, DicomNode, String) {
        let inbox = try NetTest.tempDir(tag) + "/inbox"
        let port = NetTest.freePort()
        let scp = try StorageSCP(config: StorageSCPConfig(aeTitle: "BRIXIA", port: port, inbox: inbox, bindAddress: "127.0.0.1",
                                                          allowedCallingAETitles: allow, sopClasses: classes, timeoutSeconds: 10))
        try scp.start()
        return (scp, try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.1", port: port), inbox)
    }

    @Test func echoAndStoreLandAtomicallyInInbox() throws {
        let (scp, node, inbox) = try startSCP("store")
        defer { scp.stop() }
        let scu = try DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 10)
        try scu.echo(node)
        let dir = try NetTest.tempDir("src")
        let (study, sop) = try NetTest.makeImage(at: dir + "/a.dcm")
        let (_, sop2) = try NetTest.makeImage(at: dir + "/b.dcm", sopClass: StorageSOPClass.computedRadiography, modality: "CR", studyUID: study)
        let outcomes = try scu.store([dir + "/a.dcm", dir + "/b.dcm"], to: node)
        #expect(outcomes.allSatisfy { $0.stored }, "\(outcomes)")
        #expect(NetTest.inboxFiles(inbox) == ["\(study)/\(sop).dcm", "\(study)/\(sop2).dcm"].sorted())
        #expect(NetTest.stagingFiles(inbox).isEmpty)
        // Same content as sent: header fields and pixel values.
        let got = try DicomFile(path: "\(inbox)/\(study)/\(sop).dcm")
        let src = try DicomFile(path: dir + "/a.dcm")
        var received = got.instance
        received.path = src.instance.path
        #expect(received == src.instance)
        #expect(try got.decodeStored().values == src.decodeStored().values)
        #expect(scp.stats.stored == 2)
    }

    @Test func transferSyntaxesAcceptedAsIs() throws {
        let (scp, node, inbox) = try startSCP("ts")
        defer { scp.stop() }
        let dir = try NetTest.tempDir("ts-src")
        let (study, sop) = try NetTest.makeImage(at: dir + "/plain.dcm")
        // Different SOP instances per syntax so they do not overwrite each other.
        var expected: [String: String] = [:]
        for (flag, tool, ts) in [("+e1", "dcmcjpeg", "1.2.840.10008.1.2.4.70"), ("", "dcmcjpls", "1.2.840.10008.1.2.4.80"),
                                 ("", "dcmcrle", "1.2.840.10008.1.2.5"), ("+ti", "dcmconv", "1.2.840.10008.1.2.1")] {
            let uid = NetTest.newUID()
            let fixed = dir + "/\(tool).in.dcm"
            try FileManager.default.copyItem(atPath: dir + "/plain.dcm", toPath: fixed)
            try NetTest.run("/usr/bin/dcmodify", ["-nb", "-m", "(0008,0018)=\(uid)", fixed])
            let out = dir + "/\(tool).dcm"
            let r = try NetTest.run("/usr/bin/\(tool)", (flag.isEmpty ? [] : [flag]) + [fixed, out])
            #expect(r.status == 0, "\(tool): \(r.output)")
            expected[uid] = ts
        }
        _ = sop
        let files = ["dcmcjpeg", "dcmcjpls", "dcmcrle", "dcmconv"].map { dir + "/\($0).dcm" }
        // DcmStorageSCU proposes each file's own transfer syntax; the SCP must take it as-is.
        let outcomes = try DicomSCU(callingAETitle: "MODALITY").store(files, to: node)
        #expect(outcomes.allSatisfy { $0.stored }, "\(outcomes)")
        for (uid, ts) in expected {
            let path = "\(inbox)/\(study)/\(uid).dcm"
            #expect(FileManager.default.fileExists(atPath: path), "missing \(uid)")
            // Uncompressed syntaxes are equivalent; the SCP prefers explicit VR, so implicit arrives as explicit.
            #expect(try DicomFile(path: path).instance.transferSyntaxUID == ts)
        }
    }

    @Test func unknownCallingAERejected() throws {
        let (scp, node, inbox) = try startSCP("aet", allow: ["ORTHANC", "MODALITY"])
        defer { scp.stop() }
        try DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 10).echo(node)
        let intruder = try DicomSCU(callingAETitle: "INTRUDER", timeoutSeconds: 10)
        #expect { try intruder.echo(node) } throws: { ($0 as? DicomNetworkError).map { if case .associationRejected = $0 { true } else { false } } ?? false }
        let dir = try NetTest.tempDir("aet-src")
        try NetTest.makeImage(at: dir + "/a.dcm")
        #expect { try intruder.store([dir + "/a.dcm"], to: node) } throws: {
            ($0 as? DicomNetworkError).map { if case .associationRejected = $0 { true } else { false } } ?? false
        }
        // Wrong called AE title is rejected as well.
        let wrongCalled = try DicomNode(aeTitle: "NOTBRIXIA", host: "127.0.0.1", port: node.port)
        #expect(throws: DicomNetworkError.self) { try DicomSCU(callingAETitle: "MODALITY").echo(wrongCalled) }
        #expect(NetTest.inboxFiles(inbox).isEmpty)
        #expect(scp.stats.rejectedAssociations >= 2)
    }

    @Test func sopClassNotOfferedIsRefusedInNegotiation() throws {
        // SCP configured for SC only: a DX object finds no presentation context; the SR class is never accepted.
        let (scp, node, inbox) = try startSCP("class", classes: [StorageSOPClass.secondaryCapture])
        defer { scp.stop() }
        let dir = try NetTest.tempDir("class-src")
        try NetTest.makeImage(at: dir + "/dx.dcm")
        try NetTest.makeImage(at: dir + "/sc.dcm", sopClass: StorageSOPClass.secondaryCapture, modality: "OT")
        let outcomes = try DicomSCU(callingAETitle: "MODALITY").store([dir + "/dx.dcm", dir + "/sc.dcm"], to: node)
        #expect(outcomes.count == 2)
        if case .noPresentationContext = outcomes[0].error {} else { Issue.record("expected noPresentationContext, got \(String(describing: outcomes[0].error))") }
        #expect(outcomes[1].stored)
        #expect(NetTest.inboxFiles(inbox).count == 1)
    }

    /// A destination refusing the object with a DIMSE failure status: our SCP answers 0xC000 to an instance without a
    /// usable Study Instance UID. (Orthanc 1.10's ReceivedInstanceFilter discards but still answers Success.)
    @Test func destinationRefusingTheObjectFailsWithoutRetry() throws {
        let (scp, node, inbox) = try startSCP("refuse")
        defer { scp.stop() }
        let dir = try NetTest.tempDir("refuse-src")
        try NetTest.makeImage(at: dir + "/nostudy.dcm", studyUID: "")
        try NetTest.makeImage(at: dir + "/ok.dcm")
        let o = try DicomSCU(callingAETitle: "MODALITY").store([dir + "/nostudy.dcm", dir + "/ok.dcm"], to: node)
        guard case .dimseFailure(let status, _) = o[0].error else { Issue.record("expected a DIMSE failure, got \(o[0])"); return }
        #expect(status == 0xC000)
        #expect(o[1].stored)
        #expect(NetTest.inboxFiles(inbox).count == 1)
        // In the queue the refusal is permanent: failed at once, with the status in the last error.
        let q = OutgoingQueue(store: try BrixiaStore(path: dir + "/brixia.sqlite"))
        try q.enqueue(path: dir + "/nostudy.dcm", to: node)
        try OutgoingSender(queue: q, scu: try DicomSCU(callingAETitle: "MODALITY")).runOnce()
        let s = try #require(try q.store.outgoingStatus().first)
        #expect(s.failed == 1 && s.pending == 0)
        #expect(s.lastError?.contains("0xC000") == true, "\(String(describing: s.lastError))")
    }

    @Test func abortedAssociationLeavesNoPartialFile() throws {
        let (scp, node, inbox) = try startSCP("abort")
        defer { scp.stop() }
        let dir = try NetTest.tempDir("abort-src")
        // 1024x1024x2 bytes = 2 MiB dataset; the proxy cuts the connection after 600 kB of it.
        try NetTest.makeImage(at: dir + "/big.dcm", rows: 1024, cols: 1024)
        let proxyPort = NetTest.freePort()
        let proxy = try ProxyProcess(listen: proxyPort, target: node.port, limit: 600_000, mode: "cut")
        defer { proxy.stop() }
        let via = try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.1", port: proxyPort)
        let outcome = Result { try DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 10).store([dir + "/big.dcm"], to: via) }
        switch outcome {
        case .success(let o): #expect(!o[0].stored, "a cut transfer must not report success")
        case .failure: break
        }
        #expect(NetTest.waitUntil(10) { scp.stats.failed >= 1 }, "SCP did not notice the aborted transfer")
        #expect(NetTest.inboxFiles(inbox).isEmpty)
        #expect(NetTest.stagingFiles(inbox).isEmpty)
        // The SCP is still serving.
        #expect(try DicomSCU(callingAETitle: "MODALITY").store([dir + "/big.dcm"], to: node).allSatisfy { $0.stored })
        #expect(NetTest.inboxFiles(inbox).count == 1)
    }

    @Test func twoAssociationsAtOnce() throws {
        let (scp, node, inbox) = try startSCP("two")
        defer { scp.stop() }
        let dir = try NetTest.tempDir("two-src")
        try NetTest.makeImage(at: dir + "/big.dcm", rows: 1024, cols: 1024)
        try NetTest.makeImage(at: dir + "/small.dcm")
        // Association 1 stalls mid-transfer (proxy stops forwarding) and stays open...
        let proxyPort = NetTest.freePort()
        let proxy = try ProxyProcess(listen: proxyPort, target: node.port, limit: 300_000, mode: "stall", stall: 8)
        defer { proxy.stop() }
        let via = try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.1", port: proxyPort)
        let first = Thread { _ = try? DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 20).store([dir + "/big.dcm"], to: via) }
        first.start()
        #expect(proxy.waitFor("limit", timeout: 15), "first association did not start")
        // ...while association 2 completes.
        let start = Date()
        let o = try DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 5).store([dir + "/small.dcm"], to: node)
        #expect(o[0].stored)
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(proxy.isRunning, "the first association must still be open during the second")
        #expect(NetTest.inboxFiles(inbox).count == 1)
    }
}

/// cutproxy.py as a child process.
final class ProxyProcess: Sendable {
    let process = Process()
    private let pipe = Pipe()
    /// What the proxy printed so far (its pipe's handler appends on Foundation's reader thread).
    private let buffer = Mutex("")

    init(listen: UInt16, target: UInt16, limit: Int, mode: String, stall: Double = 0) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("cutproxy.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, "\(listen)", "\(target)", "\(limit)", mode, "\(stall)"]
        process.standardOutput = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.buffer.withLock { $0 += String(decoding: d, as: UTF8.self) }
        }
        try process.run()
        guard waitFor("ready", timeout: 10) else { stop(); throw NetTest.FixtureError(message: "proxy did not start") }
    }

    var isRunning: Bool { process.isRunning && !buffer.withLock({ $0.contains("closed") }) }

    func waitFor(_ word: String, timeout: TimeInterval) -> Bool {
        NetTest.waitUntil(timeout) { buffer.withLock { $0.contains(word) } }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
    }
}
