import DicomKit
import BrixiaDomain
import Foundation
import Store

// What the pipeline needs from the modules that read, score and write (small protocols: the production side is
// in Adapters/ over DicomKit / BSNetEngine / ModelBundle / Reports; tests use doubles for these, never for the
// store, which is always the real PipelineStore).

/// Typed metadata of one DICOM instance, as far as the pipeline needs it.
public struct InstanceMetadata: Sendable, Equatable, Codable {
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var patientID: String
    public var issuerOfPatientID: String?
    /// DICOM DA (YYYYMMDD); used to order a patient's exams (never the arrival order).
    public var studyDate: String?
    public var studyTime: String?
    /// DICOM DT, when present; picks the primary image of a study.
    public var acquisitionDateTime: String?
    public var instanceNumber: Int?
    public var modality: String
    public var viewPosition: String?

    public init(sopInstanceUID: String, sopClassUID: String, studyInstanceUID: String, seriesInstanceUID: String,
                patientID: String, issuerOfPatientID: String? = nil, studyDate: String? = nil, studyTime: String? = nil,
                acquisitionDateTime: String? = nil, instanceNumber: Int? = nil, modality: String, viewPosition: String? = nil) {
        self.sopInstanceUID = sopInstanceUID; self.sopClassUID = sopClassUID
        self.studyInstanceUID = studyInstanceUID; self.seriesInstanceUID = seriesInstanceUID
        self.patientID = patientID; self.issuerOfPatientID = issuerOfPatientID
        self.studyDate = studyDate; self.studyTime = studyTime; self.acquisitionDateTime = acquisitionDateTime
        self.instanceNumber = instanceNumber; self.modality = modality; self.viewPosition = viewPosition
    }
}

public struct InspectedInstance: Sendable, Equatable {
    public var metadata: InstanceMetadata
    /// DicomKit's selection rules' verdict; an ineligible instance is readable DICOM that must not be
    /// scored (lateral view, SR, our own outputs, ...).
    public var eligibility: Eligibility
    public init(metadata: InstanceMetadata, eligibility: Eligibility) {
        self.metadata = metadata; self.eligibility = eligibility
    }
}

/// Reads a file's DICOM metadata and decides whether it can be scored.
public protocol InstanceInspector: Sendable {
    /// Throws `InputRejection` when the file is not readable DICOM.
    func inspect(file: URL) throws -> InspectedInstance
}

/// An error caused by the input itself (not by the system): the file goes to quarantine.
public struct InputRejection: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var reason: String
    public init(file: String, reason: String) { self.file = file; self.reason = reason }
    public var description: String { "\(file): \(reason)" }
}

/// Brixia scores of one image: six zones A-F graded 0-3 and their class probabilities.
public struct ImageScore: Sendable, Equatable, Codable {
    public var zoneGrades: [Int]
    public var zoneProbabilities: [[Float]]
    /// The alignment network's affine parameters (6), when the engine reports them.
    public var theta: [Double]?
    /// Stage timings in milliseconds (decode, preprocess, network).
    public var timingsMS: [String: Double]
    /// Where the image came from and how it was prepared (lossy compression, inversion, VOI), when known.
    public var provenance: InputProvenance? = nil
    /// Calibrated confidence (docs/model-card.md, "Calibration"); nil when the model has no calibration,
    /// whose probabilities are then not reported as a confidence.
    public var confidence: CalibratedConfidence? = nil
    public var global: Int { zoneGrades.reduce(0, +) }
    public init(zoneGrades: [Int], zoneProbabilities: [[Float]], theta: [Double]? = nil, timingsMS: [String: Double] = [:]) {
        self.zoneGrades = zoneGrades; self.zoneProbabilities = zoneProbabilities; self.theta = theta; self.timingsMS = timingsMS
    }
}

/// The image was read and run through the network, but the image-content check on the network's own outputs
/// says it is not a usable frontal chest radiograph (docs/quality-check.md). Not an input error: the study
/// gets a "not scored" result with this reason (issue #14 item 3).
public struct ContentCheckFailure: Error, Sendable, Equatable {
    public var file: String
    public var reason: String
    public var measures: [String: Double]
    public var provenance: InputProvenance?
    public init(file: String, reason: String, measures: [String: Double], provenance: InputProvenance? = nil) {
        self.file = file; self.reason = reason; self.measures = measures; self.provenance = provenance
    }
}

/// Why an analysis carries no score (`StudyAnalysis.notScored`).
public struct NotScoredInfo: Sendable, Equatable, Codable {
    public var reason: String
    public var measures: [String: Double]
    public init(reason: String, measures: [String: Double]) { self.reason = reason; self.measures = measures }
}

/// How sure a score is: calibrated probability of each reported zone grade, their mean (the expected
/// fraction of correct zone grades) and whether that is below the model's documented threshold.
public struct CalibratedConfidence: Sendable, Equatable, Codable {
    /// Zones A...F.
    public var zones: [Double]
    public var study: Double
    /// The temperature the probabilities were scaled with.
    public var temperature: Double
    /// The model's low-confidence threshold (nil: the model documents none).
    public var lowBelow: Double?
    public var isLow: Bool { lowBelow.map { study < $0 } ?? false }
    public init(zones: [Double], study: Double, temperature: Double, lowBelow: Double?) {
        self.zones = zones; self.study = study; self.temperature = temperature; self.lowBelow = lowBelow
    }
}

/// Decodes, preprocesses and runs the network on one image.
public protocol StudyScorer: Sendable {
    var model: ModelIdentity { get }
    /// Throws `InputRejection` when the image itself cannot be used (decode failure, ...) and
    /// `ContentCheckFailure` when it fails the image-content check; any other error is treated as a system
    /// failure and the job is retried later.
    func score(file: URL, metadata: InstanceMetadata) throws -> ImageScore
}

/// The previous exam of the same patient (by study date), if any.
public struct PriorReference: Sendable, Equatable, Codable {
    public var studyInstanceUID: String
    public var studyDate: String?
    public var sopInstanceUID: String
    public var sopClassUID: String?
    public var seriesInstanceUID: String?
    public var modality: String?
    public var zoneGrades: [Int]
    public var global: Int
    public init(studyInstanceUID: String, studyDate: String?, sopInstanceUID: String, sopClassUID: String? = nil,
                seriesInstanceUID: String? = nil, modality: String? = nil, zoneGrades: [Int], global: Int) {
        self.studyInstanceUID = studyInstanceUID; self.studyDate = studyDate
        self.sopInstanceUID = sopInstanceUID; self.sopClassUID = sopClassUID; self.seriesInstanceUID = seriesInstanceUID
        self.modality = modality; self.zoneGrades = zoneGrades; self.global = global
    }
}

/// One exam of the patient's history (latest analysis per study), for the trend chart.
public struct ScorePoint: Sendable, Equatable, Codable {
    public var studyDate: String
    public var global: Int
    public init(studyDate: String, global: Int) { self.studyDate = studyDate; self.global = global }
}

/// What processing one study produced (a score, or the reason it was not scored), with everything its reports
/// need: staged as JSON before publishing, committed to the store as an analysis (or a not-scored result) of
/// version n (a study re-analysed after a late instance gets n+1), rendered by the ReportSink.
public struct StudyAnalysis: Sendable, Equatable, Codable {
    public var studyInstanceUID: String
    public var version: Int
    public var patientID: String
    public var issuerOfPatientID: String?
    public var studyDate: String?
    public var source: InstanceMetadata
    public var score: ImageScore
    public var model: ModelIdentity
    public var createdAt: Date
    public var prior: PriorReference?
    /// Global delta and per-zone deltas against `prior` (nil without a prior).
    public var globalDelta: Int?
    public var zoneDeltas: [Int]?
    /// Store's labels: baseline (no prior), worse, stable, better, undated.
    public var trend: TrendLabel
    public var alerts: [FiredAlert]
    /// SOP Instance UIDs of every instance of the study this analysis accounted for.
    public var instanceUIDs: [String]
    /// The patient's dated exams (this one included), oldest first, for the trend chart.
    public var history: [ScorePoint]
    /// Set when the study was examined but not scored: `score` is then empty (no zones), and there is no
    /// prior, delta, alert or history; the only output is the "AI analysis not performed" SR.
    public var notScored: NotScoredInfo? = nil
    /// Set when this analysis re-issues an earlier report of the study (amended report).
    public var replaces: ReplacedReport? = nil
}

/// The earlier report of the study that an analysis's outputs replace, and why (docs/operations.md).
public struct ReplacedReport: Sendable, Equatable, Codable {
    public var version: Int
    /// The replaced outputs (SR and rendering): the new ones join their series, the SR names the old SR.
    public var outputs: [PublishedOutput]
    public var reason: String
    public init(version: Int, outputs: [PublishedOutput], reason: String) {
        self.version = version; self.outputs = outputs; self.reason = reason
    }
}

public enum OutputKind: String, Sendable, Codable, CaseIterable { case sr, sc }

/// Writes the report objects for an analysis. Files must be written into `directory` (a staging
/// folder on the outbox's file system), named `<baseName>.<kind>.dcm`; the pipeline publishes them by rename,
/// under the same names (`PublishedOutput.fileName`).
public protocol ReportSink: Sendable {
    func writeOutputs(for analysis: StudyAnalysis, sourceFile: URL, kinds: Set<OutputKind>,
                      baseName: String, into directory: URL) throws -> [PublishedOutput]
}
