import Foundation
import Store
import Testing

@Suite(.serialized) struct RunOnceCLITests {
    @Test(.timeLimit(.minutes(10)))
    func mixedInboxEndsInArchiveQuarantineAndOutputs() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let study = "\(E2E.root).20.1"
        try DicomFixture(study: study, sop: "\(study).1").write(to: w.url("inbox/storescp/\(study)/DX.\(study).1"))
        var lat = DicomFixture(study: study, sop: "\(study).2"); lat.viewPosition = "LL"
        try lat.write(to: w.url("inbox/storescp/\(study)/DX.\(study).2"))
        try Data("this is not DICOM".utf8).write(to: w.url("inbox/readme.txt"))
        let full = DicomFixture(study: "\(E2E.root).21.1", sop: "\(E2E.root).21.1.1").data()
        try full.prefix(700).write(to: w.url("inbox/truncated.dcm"))
        try Data("partial".utf8).write(to: w.url("inbox/incoming.dcm.part"))   // a writer's temp name: ignored

        let r = try await Brixia.run(["run", "--once", "--work-dir", w.root.path, "--model", model.path], env: E2E.env, timeout: 480)
        #expect(!r.timedOut)
        // A writer's temp file is not ours to judge: it stays and does not make the run unclean.
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("studies processed:   1"))
        #expect(r.stdout.contains("files quarantined:   3"))
        #expect(w.files("inbox") == ["incoming.dcm.part"])
        let outs = w.files("outbox")
        #expect(outs == ["brixia_\(study)_v1.sc.dcm", "brixia_\(study)_v1.sr.dcm"])
        for o in outs { #expect(E2E.isDicom(w.url("outbox/\(o)"))) }
        #expect(w.files("archive") == ["\(study)/DX.\(study).1"])
        let q = w.files("quarantine")
        #expect(q.contains("readme.txt.reason.txt") && q.contains("truncated.dcm.reason.txt")
                && q.contains("storescp/\(study)/DX.\(study).2.reason.txt"), "\(q)")
        let latReason = try String(contentsOf: w.url("quarantine/storescp/\(study)/DX.\(study).2.reason.txt"), encoding: .utf8)
        #expect(latReason.contains("lateral view"))
        #expect(!r.stderr.contains("Test^Patient"))          // no patient name in the logs

        // Our own SR routed back by the PACS, plus an identical re-delivery of the image: no new analysis.
        try FileManager.default.removeItem(at: w.url("inbox/incoming.dcm.part"))
        try FileManager.default.copyItem(at: w.url("outbox/brixia_\(study)_v1.sr.dcm"), to: w.url("inbox/loop-sr.dcm"))
        try DicomFixture(study: study, sop: "\(study).1").write(to: w.url("inbox/again/DX.\(study).1"))
        let r2 = try await Brixia.run(["run", "--once", "--work-dir", w.root.path, "--model", model.path], env: E2E.env, timeout: 480)
        #expect(r2.status == 0, "\(r2.stdout)\n\(r2.stderr)")
        #expect(r2.stdout.contains("duplicates ignored:  1"))
        #expect(r2.stdout.contains("studies processed:   0"))
        #expect(w.files("outbox").count == 2)
        let srReason = try String(contentsOf: w.url("quarantine/loop-sr.dcm.reason.txt"), encoding: .utf8)
        #expect(srReason.contains("structured report") || srReason.contains("Brixia"))
        let store = try BrixiaStore.openExisting(path: w.url("brixia.sqlite").path)
        #expect(try store.analyses(studyInstanceUID: study).map(\.version) == [1])
        #expect(try store.analyses(studyInstanceUID: study).first?.modelName == "random-fixture")
    }

    @Test(.timeLimit(.minutes(10)))
    func unwritableOutboxFailsTheStudyKeepsTheInputAndALaterRunSucceeds() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let study = "\(E2E.root).22.1"
        try DicomFixture(study: study, sop: "\(study).1").write(to: w.url("inbox/a.dcm"))
        try Data("not a folder".utf8).write(to: w.url("outbox"))
        let args = ["run", "--once", "--work-dir", w.root.path, "--model", model.path]
        let r = try await Brixia.run(args, env: E2E.env, timeout: 480)
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("studies failed:      1"))
        #expect(r.stdout.contains("Not a directory"))
        #expect(r.stderr.contains("study failed; inputs kept, will retry"))
        #expect(w.files("inbox") == ["a.dcm"])
        let store = try BrixiaStore.openExisting(path: w.url("brixia.sqlite").path)
        #expect(try store.job(studyInstanceUID: study)?.state == .queued)   // transient: waiting out its back-off

        try FileManager.default.removeItem(at: w.url("outbox"))
        let r2 = try await Brixia.run(args, env: E2E.env, timeout: 480)
        #expect(r2.status == 0, "\(r2.stdout)\n\(r2.stderr)")
        #expect(w.files("outbox") == ["brixia_\(study)_v1.sc.dcm", "brixia_\(study)_v1.sr.dcm"])
        #expect(w.files("inbox").isEmpty)
        #expect(try store.analyses(studyInstanceUID: study).map(\.version) == [1])
    }
}
