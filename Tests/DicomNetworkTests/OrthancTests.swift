import DicomKit
import Foundation
import Store
import Testing
@testable import DicomNetwork

/// Integration against a real Orthanc on loopback (Debian package `orthanc`; scripts/orthanc-start.sh).
@Suite(.serialized, .enabled(if: Orthanc.binaryAvailable, "needs Orthanc (apt-get install orthanc; scripts/orthanc-start.sh installs it)"))
struct OrthancTests {
    @Test func echoAgainstOrthanc() throws {
        let pacs = try Orthanc()
        try pacs.start()
        defer { pacs.stop() }
        try DicomSCU(callingAETitle: "BRIXIA").echo(pacs.node)
        // Orthanc checks the called AE title.
        let wrong = try DicomNode(aeTitle: "NOTPACS", host: "127.0.0.1", port: pacs.dicomPort)
        #expect { try DicomSCU(callingAETitle: "BRIXIA").echo(wrong) } throws: {
            ($0 as? DicomNetworkError).map { if case .associationRejected = $0 { true } else { false } } ?? false
        }
    }

    @Test func orthancPushesToOurSCP() throws {
        let inbox = try NetTest.tempDir("push") + "/inbox"
        let scpPort = NetTest.freePort()
        let scp = try StorageSCP(config: StorageSCPConfig(aeTitle: "BRIXIA", port: scpPort, inbox: inbox,
                                                          allowedCallingAETitles: ["PACSTEST"], timeoutSeconds: 10))
        try scp.start()
        defer { scp.stop() }
        let pacs = try Orthanc(brixiaAE: "BRIXIA", brixiaPort: scpPort)
        try pacs.start()
        defer { pacs.stop() }
        let dir = try NetTest.tempDir("push-src")
        let (study, sop) = try NetTest.makeImage(at: dir + "/cxr.dcm", rows: 512, cols: 512)
        let (_, sop2) = try NetTest.makeImage(at: dir + "/cxr2.dcm", sopClass: StorageSOPClass.computedRadiography, modality: "CR", studyUID: study)
        for f in ["cxr.dcm", "cxr2.dcm"] { _ = try pacs.rest("POST", "/instances", file: dir + "/" + f) }
        let studyID = try #require((try pacs.rest("POST", "/tools/lookup", body: study) as? [[String: Any]])?.first?["ID"] as? String)
        _ = try pacs.rest("POST", "/modalities/brixia/store", body: #"{"Resources":["\#(studyID)"],"Synchronous":true}"#)
        #expect(NetTest.inboxFiles(inbox) == ["\(study)/\(sop).dcm", "\(study)/\(sop2).dcm"].sorted())
        let got = try DicomFile(path: "\(inbox)/\(study)/\(sop).dcm")
        let src = try DicomFile(path: dir + "/cxr.dcm")
        var received = got.instance
        received.path = src.instance.path
        #expect(received == src.instance)
        #expect(try got.decodeStored().values == src.decodeStored().values)
        let meta = try NetTest.run("/usr/bin/dcmdump", ["-q", "+P", "0002,0016", "\(inbox)/\(study)/\(sop).dcm"])
        #expect(meta.output.contains("PACSTEST"), "Source AE title in meta header: \(meta.output)")
    }

    @Test func brixiaSendsToOrthancAndItIsFoundByREST() throws {
        let pacs = try Orthanc()
        try pacs.start()
        defer { pacs.stop() }
        let dir = try NetTest.tempDir("send")
        let (study, sop) = try NetTest.makeImage(at: dir + "/sc.dcm", sopClass: StorageSOPClass.secondaryCapture,
                                                 modality: "OT", patientID: "NET-SEND-7")
        let o = try DicomSCU(callingAETitle: "BRIXIA").store([dir + "/sc.dcm"], to: pacs.node)
        #expect(o.count == 1 && o[0].stored && o[0].sopInstanceUID == sop)
        let id = try #require(try pacs.lookupInstance(sop))
        let tags = try #require(try pacs.rest("GET", "/instances/\(id)/simplified-tags") as? [String: Any])
        #expect(tags["SOPInstanceUID"] as? String == sop)
        #expect(tags["SOPClassUID"] as? String == StorageSOPClass.secondaryCapture)
        #expect(tags["PatientID"] as? String == "NET-SEND-7")
        #expect(tags["Modality"] as? String == "OT")
        let studyInfo = try #require(try pacs.rest("GET", "/instances/\(id)/study") as? [String: Any])
        #expect((studyInfo["MainDicomTags"] as? [String: Any])?["StudyInstanceUID"] as? String == study)
        let meta = try #require(try pacs.rest("GET", "/instances/\(id)/metadata?expand") as? [String: Any])
        #expect(meta["RemoteAET"] as? String == "BRIXIA")
    }

    @Test func queueKeepsItemsWhilePACSDownAndDeliversWhenBack() throws {
        let pacs = try Orthanc()   // not started yet: the PACS is down
        let dir = try NetTest.tempDir("queue")
        let q = OutgoingQueue(store: try BrixiaStore(path: dir + "/brixia.sqlite"),
                                  policy: OutgoingRetryPolicy(baseDelay: 2, maxDelay: 8, giveUpAfter: 3600))
        let sender = OutgoingSender(queue: q, scu: try DicomSCU(callingAETitle: "BRIXIA", timeoutSeconds: 5))
        let (_, sop) = try NetTest.makeImage(at: dir + "/sr-like.dcm", sopClass: StorageSOPClass.secondaryCapture, modality: "OT")
        try q.enqueue(path: dir + "/sr-like.dcm", to: pacs.node)
        let t0 = Date()
        #expect(try sender.runOnce(now: t0) == 0)
        let s = try #require(try q.store.outgoingStatus().first)
        #expect(s.destination == pacs.node.description && s.pending == 1 && s.sent == 0 && s.failed == 0)
        #expect(s.lastError?.contains("cannot connect") == true, "\(String(describing: s.lastError))")
        // SQLite keeps milliseconds.
        #expect(abs((s.nextAttemptAt ?? .distantPast).timeIntervalSince(t0.addingTimeInterval(2))) < 0.01)
        #expect(try sender.runOnce(now: t0.addingTimeInterval(1)) == 0)   // not due yet: no attempt
        #expect(try q.store.outgoingItems().first?.attempts == 1)
        try pacs.start()
        defer { pacs.stop() }
        #expect(try sender.runOnce(now: t0.addingTimeInterval(2)) == 1)
        let after = try #require(try q.store.outgoingStatus().first)
        #expect(after.pending == 0 && after.sent == 1 && after.nextAttemptAt == nil)
        #expect(try pacs.lookupInstance(sop) != nil)
    }

    @Test func pacsDownLongerThanRetryWindowMarksFailedNothingDropped() throws {
        let pacs = try Orthanc()
        let dir = try NetTest.tempDir("giveup")
        let q = OutgoingQueue(store: try BrixiaStore(path: dir + "/brixia.sqlite"),
                                  policy: OutgoingRetryPolicy(baseDelay: 1, maxDelay: 4, giveUpAfter: 10))
        let sender = OutgoingSender(queue: q, scu: try DicomSCU(callingAETitle: "BRIXIA", timeoutSeconds: 5))
        for i in 0..<3 { try NetTest.makeImage(at: dir + "/\(i).dcm", sopClass: StorageSOPClass.secondaryCapture, modality: "OT") }
        let t0 = Date()
        for i in 0..<3 { try q.enqueue(path: dir + "/\(i).dcm", to: pacs.node, now: t0) }
        for t in [0.0, 1, 3, 7, 11] { try sender.runOnce(now: t0.addingTimeInterval(t)) }
        let s = try #require(try q.store.outgoingStatus().first)
        #expect(s.failed == 3 && s.pending == 0 && s.sent == 0)
        #expect(s.lastError?.contains("cannot connect") == true)
        #expect(try q.store.outgoingItems(state: .failed).count == 3)   // kept listed
        // Once the PACS is back, an operator retry delivers them.
        try pacs.start()
        defer { pacs.stop() }
        #expect(try q.store.retryFailedOutgoing(destination: pacs.node.description, actor: "test") == 3)
        #expect(try sender.runOnce() == 3)
    }
}
