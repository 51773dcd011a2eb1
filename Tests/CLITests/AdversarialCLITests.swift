#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Store
import Testing

/// Hostile and careless inputs against the real binary (issue #13): the target of a link is never
/// touched, nothing is lost or duplicated, nothing loops, memory and time stay bounded, the daemon
/// still answers SIGTERM.
@Suite(.serialized) struct AdversarialCLITests {
    static func runOnce(_ w: WorkDir, _ extra: [String] = []) async throws -> Brixia.Result {
        let model = try E2E.sharedModel.get()
        return try await Brixia.run(["run", "--once", "--work-dir", w.root.path, "--model", model.path] + extra,
                                    env: E2E.env, timeout: 300)
    }

    static func mode(_ path: String) -> mode_t {
        var st = stat(); return lstat(path, &st) == 0 ? st.st_mode & 0o7777 : 0
    }

    static func isLink(_ path: String) -> Bool {
        var st = stat(); return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK
    }

    @Test(.timeLimit(.minutes(5)))
    func linksFifosAndSocketsAreSetAsideNeverFollowed() async throws {
        let w = try WorkDir()
        // Outside the inbox: a folder with a DICOM file, and a single DICOM file.
        let outside = w.url("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let victim = outside.appendingPathComponent("victim.dcm")
        try DicomFixture(study: "\(E2E.root).40.1", sop: "\(E2E.root).40.1.1").write(to: victim)
        try FileManager.default.createSymbolicLink(atPath: w.url("inbox/up").path, withDestinationPath: "..")
        try FileManager.default.createSymbolicLink(atPath: w.url("inbox/x").path, withDestinationPath: outside.path)
        try FileManager.default.createSymbolicLink(atPath: w.url("inbox/file.dcm").path, withDestinationPath: victim.path)
        #expect(mkfifo(w.url("inbox/a.dcm").path, 0o600) == 0)
        // A real study beside them is processed normally.
        let study = "\(E2E.root).41.1"
        try DicomFixture(study: study, sop: "\(study).1").write(to: w.url("inbox/ok.dcm"))

        let r = try await Self.runOnce(w)
        #expect(!r.timedOut, "a FIFO must not block the run")
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("studies processed:   1"))
        // Targets untouched, the database and outbox where they were.
        #expect(FileManager.default.fileExists(atPath: victim.path))
        #expect(FileManager.default.fileExists(atPath: w.url("brixia.sqlite").path))
        #expect(w.files("outbox").count == 2)
        // The links and the FIFO themselves are in the quarantine, each with its reason.
        for name in ["up", "x", "file.dcm"] {
            #expect(Self.isLink(w.url("quarantine/\(name)").path), "\(name) moved as the link itself")
            let reason = try String(contentsOf: w.url("quarantine/\(name).reason.txt"), encoding: .utf8)
            #expect(reason.contains("symbolic link") && reason.contains("never followed"))
        }
        let fifoReason = try String(contentsOf: w.url("quarantine/a.dcm.reason.txt"), encoding: .utf8)
        #expect(fifoReason.contains("FIFO"))
        // Nothing from outside was read: only the real study was scored, the archive holds no link.
        let store = try BrixiaStore.openExisting(path: w.url("brixia.sqlite").path)
        #expect(try store.job(studyInstanceUID: "\(E2E.root).40.1") == nil)
        #expect(w.files("archive") == ["\(study)/ok.dcm"])
        // `status` lists what was set aside.
        let st = try await Brixia.run(["status", "--db", w.url("brixia.sqlite").path])
        #expect(st.stdout.contains("quarantined files: 4"), "\(st.stdout)")
    }

    @Test(.timeLimit(.minutes(5)))
    func serveAnswersSigtermWithAFifoInTheInbox() async throws {
        let w = try WorkDir()
        #expect(mkfifo(w.url("inbox/pipe.dcm").path, 0o600) == 0)
        let model = try E2E.sharedModel.get()
        let d = try Daemon(args: ["--work-dir", w.root.path, "--model", model.path],
                           env: ["BRIXIA_ALLOW_TEST_FIXTURE": "1", "BRIXIA_QUIET_SECONDS": "0"], log: w.url("serve.log"))
        let log = { (try? String(contentsOf: w.url("serve.log"), encoding: .utf8)) ?? "" }
        #expect(try await eventually(60) { log().contains("FIFO") })
        d.signal(SIGTERM)
        #expect(await d.waitAsync(timeout: 30) == 0, "graceful stop:\n\(log().suffix(2000))")
        #expect(FileManager.default.fileExists(atPath: w.url("quarantine/pipe.dcm.reason.txt").path))
    }

    @Test(.timeLimit(.minutes(5)))
    func hostileValuesNeverEscapeTheirFoldersNorLoop() async throws {
        let w = try WorkDir()
        // A StudyInstanceUID of "..", a UID with letters, a PatientID with a newline and ESC sequences.
        try DicomFixture(study: "..", sop: "\(E2E.root).50.1.1").write(to: w.url("inbox/dotdot.dcm"))
        try DicomFixture(study: "\(E2E.root).51.x", sop: "\(E2E.root).51.1.1").write(to: w.url("inbox/letters.dcm"))
        var esc = DicomFixture(study: "\(E2E.root).52.1", sop: "\(E2E.root).52.1.1")
        esc.patientID = "EVIL\u{1B}[2J\nFORGED"
        try esc.write(to: w.url("inbox/esc.dcm"))
        let r1 = try await Self.runOnce(w)
        #expect(!r1.timedOut)
        // Deterministic problems end in the quarantine: the run is clean and the next has nothing to do.
        #expect(r1.status == 0, "\(r1.stdout)\n\(r1.stderr)")
        #expect(w.files("inbox").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: w.root.appendingPathComponent("dotdot.dcm").path))
        #expect(!FileManager.default.fileExists(atPath: w.url("archive/../dotdot.dcm").standardizedFileURL.path))
        for f in w.files("archive") { #expect(!f.hasPrefix("..")) }
        #expect(!r1.stderr.contains("\u{1B}"), "no raw escape in the log")
        #expect(!r1.stderr.split(separator: "\n").contains { $0.hasPrefix("FORGED") }, "no forged log line")
        let r2 = try await Self.runOnce(w)
        #expect(r2.status == 0 && r2.stdout.contains("studies processed:   0"), "\(r2.stdout)")
        // Terminal output of the stored values is escaped too.
        let studies = try await Brixia.run(["studies", "--db", w.url("brixia.sqlite").path])
        #expect(!studies.stdout.contains("\u{1B}"))
        for reason in w.files("quarantine").filter({ $0.hasSuffix(".reason.txt") }) {
            let text = try String(contentsOf: w.url("quarantine/\(reason)"), encoding: .utf8)
            #expect(!text.contains("\u{1B}"))
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func everythingWrittenIsPrivate() async throws {
        let w = try WorkDir()
        let study = "\(E2E.root).60.1"
        try DicomFixture(study: study, sop: "\(study).1").write(to: w.url("inbox/a.dcm"))
        try Data("junk".utf8).write(to: w.url("inbox/junk.dcm"))
        _ = chmod(w.url("inbox/a.dcm").path, 0o644)
        let r = try await Self.runOnce(w)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(Self.mode(w.url("brixia.sqlite").path) == 0o600)
        for dir in ["inbox", "outbox", "archive", "quarantine"] { #expect(Self.mode(w.url(dir).path) == 0o700, "\(dir)") }
        for f in w.files("outbox") { #expect(Self.mode(w.url("outbox/\(f)").path) == 0o600, "\(f)") }
        for f in w.files("archive") { #expect(Self.mode(w.url("archive/\(f)").path) == 0o600, "\(f)") }
        for f in w.files("quarantine") { #expect(Self.mode(w.url("quarantine/\(f)").path) == 0o600, "\(f)") }
    }

    @Test(.timeLimit(.minutes(5)))
    func oneWriterPerDatabaseAndClearStorageErrors() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let d = try Daemon(args: ["--work-dir", w.root.path, "--model", model.path],
                           env: ["BRIXIA_ALLOW_TEST_FIXTURE": "1"], log: w.url("serve.log"))
        let log = { (try? String(contentsOf: w.url("serve.log"), encoding: .utf8)) ?? "" }
        #expect(try await eventually(60) { log().contains("watching inbox") })
        let second = try await Self.runOnce(w)
        #expect(second.status == 75, "\(second.stderr)")
        #expect(second.stderr.contains("in use by another brixia"))
        // Read-only commands keep working beside the writer.
        let st = try await Brixia.run(["status", "--db", w.url("brixia.sqlite").path])
        #expect(st.status == 0, "\(st.stderr)")
        d.signal(SIGTERM)
        #expect(await d.waitAsync(timeout: 30) == 0)
        // The lock goes with the process: the next run works.
        #expect(try await Self.runOnce(w).status == 0)

        // A file that is not a database: the path and the meaning, exit 2.
        let notDB = w.url("not-a-db.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: notDB)
        let bad = try await Self.runOnce(w, ["--db", notDB.path])
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains(notDB.path) && bad.stderr.contains("not an SQLite database"), "\(bad.stderr)")

        // A mistyped inbox is an error, not a new empty folder; --create-folders creates it.
        let typo = w.url("inbx")
        let r = try await Self.runOnce(w, ["--inbox", typo.path])
        #expect(r.status == 2 && r.stderr.contains("--create-folders"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: typo.path))
        #expect(try await Self.runOnce(w, ["--inbox", typo.path, "--create-folders"]).status == 0)
    }
}
