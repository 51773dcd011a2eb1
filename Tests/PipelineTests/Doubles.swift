#if canImport(Glibc)
import Glibc
#endif
import BrixiaDomain
import Foundation
import GRDB
import Logging
@testable import Pipeline

/// Test input format: "BRXFAKE1\n" + JSON. Anything else is "not DICOM" to the fake inspector.
struct FakeInstance: Codable {
    var meta: InstanceMetadata
    var ineligibleReason: String?
    var grades: [Int] = [1, 1, 1, 1, 1, 1]
    /// "reject": the scorer rejects the image (decode failure).
    var scorer: String?
    /// Calibrated zone confidences (A...F) the scorer reports (nil: an uncalibrated model).
    var confidence: [Double]? = nil

    static let magic = "BRXFAKE1\n"

    static func make(study: String, sop: String, patient: String = "P1", date: String = "20200310",
                     grades: [Int] = [1, 1, 1, 1, 1, 1], ineligible: String? = nil, view: String = "PA",
                     acquisition: String? = nil) -> FakeInstance {
        FakeInstance(meta: InstanceMetadata(sopInstanceUID: sop, sopClassUID: "1.2.840.10008.5.1.4.1.1.1.1",
                                            studyInstanceUID: study, seriesInstanceUID: study + ".1", patientID: patient,
                                            studyDate: date, acquisitionDateTime: acquisition, modality: "DX", viewPosition: view),
                     ineligibleReason: ineligible, grades: grades)
    }

    var data: Data {
        let enc = JSONEncoder(); enc.outputFormatting = .sortedKeys
        return Data(FakeInstance.magic.utf8) + (try! enc.encode(self))
    }

    static func read(_ url: URL) throws -> FakeInstance {
        let data = try Data(contentsOf: url)
        let magic = Data(FakeInstance.magic.utf8)
        guard data.starts(with: magic) else { throw InputRejection(file: url.path, reason: "not a DICOM file (no DICM preamble)") }
        do { return try JSONDecoder().decode(FakeInstance.self, from: data.dropFirst(magic.count)) } catch {
            throw InputRejection(file: url.path, reason: "corrupt DICOM: truncated data set")
        }
    }
}

struct FakeInspector: InstanceInspector {
    func inspect(file: URL) throws -> InspectedInstance {
        let f = try FakeInstance.read(file)
        return InspectedInstance(metadata: f.meta, eligibility: f.ineligibleReason.map { .reject($0) } ?? .accept("test double"))
    }
}

final class FakeScorer: StudyScorer, @unchecked Sendable {
    let model = ModelIdentity(name: "BS-Net test double", version: "0", weightsSHA256: String(repeating: "0", count: 64))
    private let lock = NSLock()
    private(set) var scored: [String] = []
    static let lowConfidenceBelow = 0.5
    func score(file: URL, metadata: InstanceMetadata) throws -> ImageScore {
        let f = try FakeInstance.read(file)
        if f.scorer == "reject" { throw InputRejection(file: file.path, reason: "pixel data cannot be decoded") }
        if f.scorer == "qc-fail" {
            throw ContentCheckFailure(file: file.path, reason: "image-content check failed: two lungs not found",
                                      measures: ["lungFraction": 0.01])
        }
        lock.lock(); scored.append(metadata.sopInstanceUID); lock.unlock()
        var score = ImageScore(zoneGrades: f.grades, zoneProbabilities: f.grades.map { g in (0..<4).map { $0 == g ? 1 : 0 } })
        if let c = f.confidence {
            score.confidence = CalibratedConfidence(zones: c, study: c.reduce(0, +) / Double(c.count), temperature: 1.5,
                                                    lowBelow: Self.lowConfidenceBelow)
        }
        return score
    }
}

/// Writes the analysis as JSON per output kind. `failAfterBytes` simulates a full disk mid-write.
final class FakeReportSink: ReportSink, @unchecked Sendable {
    var failWithENOSPC = false
    /// Refuses every input the way ReportsSink maps a report writer's refusal (deterministic).
    var rejectInput: String?
    func writeOutputs(for analysis: StudyAnalysis, sourceFile: URL, kinds: Set<OutputKind>, baseName: String,
                      into directory: URL) throws -> [PublishedOutput] {
        if let rejectInput { throw InputRejection(file: sourceFile.path, reason: "cannot be reported: \(rejectInput)") }
        let enc = JSONEncoder(); enc.outputFormatting = .sortedKeys; enc.dateEncodingStrategy = .iso8601
        let body = try enc.encode(analysis)
        var out: [PublishedOutput] = []
        for k in kinds.sorted(by: { $0.rawValue < $1.rawValue }) {
            let url = directory.appendingPathComponent("\(baseName).\(k.rawValue).json")
            if failWithENOSPC {
                try body.prefix(10).write(to: url)   // the partial file a full disk leaves behind
                throw FileOpError("write", url.path, errno: ENOSPC)
            }
            try body.write(to: url)
            out.append(PublishedOutput(kind: k, fileName: url.lastPathComponent, sopInstanceUID: "2.25.\(abs(baseName.hashValue))\(k == .sr ? 1 : 2)"))
        }
        return out
    }
}

/// Fails the next N atomic writes with ENOSPC (reason files, manifests).
final class FlakyWriter: FileWriting, @unchecked Sendable {
    var failuresLeft = 0
    func writeAtomically(_ data: Data, to url: URL) throws {
        if failuresLeft > 0 { failuresLeft -= 1; throw FileOpError("write", url.path, errno: ENOSPC) }
        try POSIXFileWriter().writeAtomically(data, to: url)
    }
}

/// A clock tests set and advance; safe to read from the daemon's queue while a test moves it.
final class ManualClock: @unchecked Sendable {
    private var value: Date
    private let lock = NSLock()   // @unchecked: `value` is only touched under `lock`
    init(_ start: Date) { value = start }
    var now: Date { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ date: Date) { lock.lock(); value = date; lock.unlock() }
    func advance(by seconds: TimeInterval) { lock.lock(); value += seconds; lock.unlock() }
}

/// A temporary work dir with inbox/outbox/archive/quarantine, plus helpers.
final class Workspace {
    let root: URL
    var config: PipelineConfig
    /// The pipeline's store over a temporary SQLite database (the real one: there is no in-memory double).
    /// Opened on first use, with the configuration as the test has set it by then.
    private(set) lazy var store: PipelineStore = try! PipelineStore(config: config)
    let scorer = FakeScorer()
    let sink = FakeReportSink()
    let writer = FlakyWriter()
    /// The engine's clock (`PipelineDependencies.now`): it only moves when a test moves it, also under a
    /// running daemon, so quiet periods and back-offs end when the test says, not when a slow machine lets them.
    let manualClock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
    var clock: Date {
        get { manualClock.now }
        set { manualClock.set(newValue) }
    }

    init() throws {
        root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-pl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        config = PipelineConfig.defaults(workDir: root)
        config.stabilityPeriod = 0
    }

    private var owned = true
    deinit { if owned { try? FileManager.default.removeItem(at: root) } }

    private init(root: URL, config: PipelineConfig) throws {
        self.root = root; self.config = config
        store = try PipelineStore(config: config)
    }

    /// The same folders and database, opened again as a restarted process would.
    func reopened() -> Workspace {
        let w = try! Workspace(root: root, config: config)
        w.owned = false
        return w
    }

    func engine(explaining launcher: (any ExplanationLauncher)? = nil) -> PipelineEngine {
        let deps = PipelineDependencies(inspector: FakeInspector(), scorer: scorer, reports: sink, store: store,
                                        fileWriter: writer, now: { [manualClock] in manualClock.now },
                                        explanationLauncher: launcher)
        var log = Logger(label: "test"); log.logLevel = .critical
        return PipelineEngine(config: config, dependencies: deps, logger: log)
    }

    func runner(explaining launcher: (any ExplanationLauncher)? = nil) -> PipelineRunner {
        var log = Logger(label: "test"); log.logLevel = .critical
        return PipelineRunner(engine: engine(explaining: launcher), logger: log)
    }

    @discardableResult
    func drop(_ f: FakeInstance, as name: String) throws -> URL {
        try drop(f.data, as: name)
    }

    @discardableResult
    func drop(_ data: Data, as name: String) throws -> URL {
        let url = config.inbox.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return url
    }

    func files(_ dir: URL) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir.path) else { return [] }
        return e.compactMap { $0 as? String }.filter {
            var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path, isDirectory: &d) && !d.boolValue
        }.sorted()
    }

    func inboxFiles() -> [String] { files(config.inbox) }

    /// The committed results of a study, oldest version first, as their reports were published: the store says
    /// which versions are committed, FakeReportSink's JSON in the outbox carries what was reported.
    func analyses(_ study: String) throws -> [StudyAnalysis] {
        let dec = JSONDecoder(); dec.dateDecodingStrategy = .iso8601
        return try store.store.analyses(studyInstanceUID: study).map { row in
            let name = "brixia_\(study)_v\(row.version)"
            let files = try FileManager.default.contentsOfDirectory(atPath: config.outbox.path)
                .filter { $0.hasPrefix(name + ".") && $0.hasSuffix(".json") }.sorted()
            guard let file = files.first else { throw TestFailure("no published report \(name).*.json for committed version \(row.version)") }
            return try dec.decode(StudyAnalysis.self, from: Data(contentsOf: config.outbox.appendingPathComponent(file)))
        }
    }

    /// Makes the database refuse (or accept again) every commit of a scored result, as a failing disk would:
    /// a trigger on the analyses table, so the rest of the store keeps working.
    func refuseCommits(_ refuse: Bool) throws {
        _ = store   // migrated before the trigger is added
        let raw = try DatabaseQueue(path: config.database.path)
        try raw.write { db in
            try db.execute(sql: refuse
                ? "CREATE TRIGGER refuse_commit BEFORE INSERT ON analyses BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
                : "DROP TRIGGER refuse_commit")
        }
    }

    /// The outputs recorded with the study's latest committed result.
    func publishedOutputs(_ study: String) throws -> [PublishedOutput]? {
        try store.issuedReport(studyInstanceUID: study)?.outputs
    }
    func outputs() -> [String] { files(config.outbox).filter { !$0.hasPrefix(".") } }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
