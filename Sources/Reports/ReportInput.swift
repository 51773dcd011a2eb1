import BrixiaDomain
import Foundation

// Plain input types for the report writers. They deliberately do not depend on DicomKit/Imaging:
// the pipeline copies the values it read from the source image into these structs.

/// Patient module values, copied verbatim from the source image.
public struct PatientInfo: Sendable, Equatable {
    public var id: String
    public var issuer: String?
    /// DICOM PN form, e.g. "DOE^JANE".
    public var name: String
    /// "M", "F", "O" or nil.
    public var sex: String?
    /// YYYYMMDD or nil.
    public var birthDate: String?
    /// PatientAge as in the source, e.g. "063Y".
    public var age: String?
    /// Other Patient IDs Sequence of the source.
    public var otherIDs: [OtherPatientID]
    public init(id: String, issuer: String? = nil, name: String, sex: String? = nil, birthDate: String? = nil,
                age: String? = nil, otherIDs: [OtherPatientID] = []) {
        self.id = id; self.issuer = issuer; self.name = name; self.sex = sex; self.birthDate = birthDate
        self.age = age; self.otherIDs = otherIDs
    }
}

public struct OtherPatientID: Sendable, Equatable {
    public var id: String
    public var issuer: String?
    /// TEXT, RFID or BARCODE.
    public var type: String
    public init(id: String, issuer: String? = nil, type: String = "TEXT") { self.id = id; self.issuer = issuer; self.type = type }
}

/// Issuer of Accession Number Sequence item (HL7 v2 HD: local namespace and/or universal ID with its type).
public struct AccessionIssuer: Sendable, Equatable {
    public var localNamespace: String?
    public var universalID: String?
    public var universalIDType: String?
    public init(localNamespace: String? = nil, universalID: String? = nil, universalIDType: String? = nil) {
        self.localNamespace = localNamespace; self.universalID = universalID; self.universalIDType = universalIDType
    }
}

/// General Study values of the analysed study; outputs are written into this same study.
public struct StudyInfo: Sendable, Equatable {
    public var studyInstanceUID: String
    public var date: String?            // YYYYMMDD
    public var time: String?            // HHMMSS[.FFFFFF]
    public var accessionNumber: String?
    public var studyID: String?
    public var description: String?
    public var referringPhysicianName: String?
    public var accessionIssuer: AccessionIssuer?
    /// TimezoneOffsetFromUTC of the source ("+HHMM"), which qualifies its dates and times.
    public var timezoneOffsetFromUTC: String?
    public init(studyInstanceUID: String, date: String? = nil, time: String? = nil, accessionNumber: String? = nil,
                studyID: String? = nil, description: String? = nil, referringPhysicianName: String? = nil,
                accessionIssuer: AccessionIssuer? = nil, timezoneOffsetFromUTC: String? = nil) {
        self.studyInstanceUID = studyInstanceUID; self.date = date; self.time = time
        self.accessionNumber = accessionNumber; self.studyID = studyID; self.description = description
        self.referringPhysicianName = referringPhysicianName
        self.accessionIssuer = accessionIssuer; self.timezoneOffsetFromUTC = timezoneOffsetFromUTC
    }
}

/// The image that was scored (or the prior's scored image).
public struct SourceImage: Sendable, Equatable {
    public var sopClassUID: String
    public var sopInstanceUID: String
    public var seriesInstanceUID: String
    public var modality: String          // CR / DX
    public var laterality: String?
    public var viewPosition: String?     // AP / PA
    /// Image Library entry descriptors (TID 1602), when known: size, PatientOrientation "row\\column", spacing in mm.
    public var rows: Int?
    public var columns: Int?
    public var patientOrientation: String?
    public var pixelSpacing: (row: Double, column: Double)?
    public init(sopClassUID: String, sopInstanceUID: String, seriesInstanceUID: String, modality: String,
                laterality: String? = nil, viewPosition: String? = nil, rows: Int? = nil, columns: Int? = nil,
                patientOrientation: String? = nil, pixelSpacing: (row: Double, column: Double)? = nil) {
        self.sopClassUID = sopClassUID; self.sopInstanceUID = sopInstanceUID; self.seriesInstanceUID = seriesInstanceUID
        self.modality = modality; self.laterality = laterality; self.viewPosition = viewPosition
        self.rows = rows; self.columns = columns; self.patientOrientation = patientOrientation; self.pixelSpacing = pixelSpacing
    }
    /// PatientOrientation (0020,0020) of a projection image: two values of the letters A P R L H F.
    public static func isPatientOrientation(_ s: String) -> Bool {
        let parts = s.split(separator: "\\", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.count <= 8 && $0.allSatisfy { "APRLHF".contains($0) } }
    }
    public static func == (a: SourceImage, b: SourceImage) -> Bool {
        a.sopClassUID == b.sopClassUID && a.sopInstanceUID == b.sopInstanceUID && a.seriesInstanceUID == b.seriesInstanceUID
            && a.modality == b.modality && a.laterality == b.laterality && a.viewPosition == b.viewPosition
            && a.rows == b.rows && a.columns == b.columns && a.patientOrientation == b.patientOrientation
            && a.pixelSpacing?.row == b.pixelSpacing?.row && a.pixelSpacing?.column == b.pixelSpacing?.column
    }
}

public struct ZoneScore: Sendable, Equatable {
    public var zone: Zone
    public var grade: Int                 // 0...3
    public var probabilities: [Double]    // [p0, p1, p2, p3] or empty
    /// Calibrated probability of `grade` (0...1); nil when the model has no calibration.
    public var confidence: Double?
    public init(zone: Zone, grade: Int, probabilities: [Double] = [], confidence: Double? = nil) {
        self.zone = zone; self.grade = grade; self.probabilities = probabilities; self.confidence = confidence
    }
}

public struct BrixiaScores: Sendable, Equatable {
    /// Exactly one entry per zone A-F (any order).
    public var zones: [ZoneScore]
    public var global: Int                // 0...18, the sum of the zone grades
    /// Calibrated study confidence (0...1): mean of the zones' confidences, the expected fraction of
    /// correct zone grades (docs/model-card.md, "Calibration"); nil when the model has no calibration.
    public var confidence: Double?
    public init(zones: [ZoneScore], global: Int, confidence: Double? = nil) {
        self.zones = zones; self.global = global; self.confidence = confidence
    }
    public func grade(_ zone: Zone) -> Int? { zones.first { $0.zone == zone }?.grade }
}

/// The patient's previous scored exam, used for the change and the evidence references.
public struct PriorExam: Sendable, Equatable {
    public var studyInstanceUID: String
    public var studyDate: String          // YYYYMMDD
    public var global: Int
    public var image: SourceImage
    public init(studyInstanceUID: String, studyDate: String, global: Int, image: SourceImage) {
        self.studyInstanceUID = studyInstanceUID; self.studyDate = studyDate; self.global = global; self.image = image
    }
}

public enum Trend: String, Sendable, Codable, CaseIterable { case worse, stable, better }

public struct ScoreChange: Sendable, Equatable {
    public var delta: Int                 // current global - prior global
    public var trend: Trend
    public init(delta: Int, trend: Trend) { self.delta = delta; self.trend = trend }
}

/// A coded alert. Standard ones are provided; others should use the 99BRIXIA scheme too.
public struct ReportAlert: Sendable, Equatable {
    public var code: String               // <= 16 chars
    public var scheme: String
    public var meaning: String            // <= 64 chars
    public init(code: String, scheme: String = "99BRIXIA", meaning: String) {
        self.code = code; self.scheme = scheme; self.meaning = meaning
    }
    public static let worsening = ReportAlert(code: "BRX-ALERT-WORSE", meaning: "Worsening Brixia score vs prior exam")
    public static let severe = ReportAlert(code: "BRX-ALERT-SEVERE", meaning: "Severe involvement (high Brixia score)")
    public static let lowConfidence = ReportAlert(code: "BRX-ALERT-LOWCNF", meaning: "Low confidence: check every zone grade")
}

/// Equipment identity written into General Equipment and the SR device observer context.
public struct EquipmentInfo: Sendable, Equatable {
    public var institutionName: String?
    public var softwareVersion: String
    public var deviceSerialNumber: String?
    /// Stable UID of this installation (Device Observer UID); generated per report when nil.
    public var deviceUID: String?
    public init(institutionName: String? = nil, softwareVersion: String, deviceSerialNumber: String? = nil,
                deviceUID: String? = nil) {
        self.institutionName = institutionName; self.softwareVersion = softwareVersion
        self.deviceSerialNumber = deviceSerialNumber; self.deviceUID = deviceUID
    }
}

/// TID 1501 Tracking Unique Identifiers: one per zone and one for the global score, the same for every
/// exam of a patient so viewers can follow "zone A" over time. The pipeline derives them per installation
/// and patient (Pipeline's TrackingDerivation); without them a report gets fresh ones.
public struct TrackingUIDs: Sendable, Equatable {
    public var zones: [Zone: String]
    public var global: String
    public init(zones: [Zone: String], global: String) { self.zones = zones; self.global = global }
}

public struct ReportInput: Sendable, Equatable {
    public var patient: PatientInfo
    public var study: StudyInfo
    public var source: SourceImage
    public var scores: BrixiaScores
    public var prior: PriorExam?
    public var change: ScoreChange?
    public var alerts: [ReportAlert]
    public var model: ModelIdentity
    public var equipment: EquipmentInfo
    /// When the report was produced (ContentDate/Time); local time zone.
    public var created: Date
    /// Set when this report replaces an earlier one of the same study (nil: an original report).
    public var amendment: ReportAmendment? = nil
    public var tracking: TrackingUIDs?
    /// Lossy compression and preprocessing of the analysed image (issue #14 item 6); nil when unknown.
    public var sourceProvenance: SourceProvenance? = nil
    public init(patient: PatientInfo, study: StudyInfo, source: SourceImage, scores: BrixiaScores,
                prior: PriorExam? = nil, change: ScoreChange? = nil, alerts: [ReportAlert] = [],
                model: ModelIdentity, equipment: EquipmentInfo, created: Date = Date(), tracking: TrackingUIDs? = nil) {
        self.patient = patient; self.study = study; self.source = source; self.scores = scores
        self.prior = prior; self.change = change; self.alerts = alerts; self.model = model
        self.equipment = equipment; self.created = created; self.tracking = tracking
    }
}

/// One point of the patient's score history for the trend chart.
public struct TrendPoint: Sendable, Equatable {
    public var date: String               // YYYYMMDD
    public var global: Int
    public init(date: String, global: Int) { self.date = date; self.global = global }
}

/// What a writer produced.
public struct WrittenObject: Sendable, Equatable {
    public var path: URL
    public var sopInstanceUID: String
    public var seriesInstanceUID: String
    public var sopClassUID: String
}

/// What an amended report replaces and why. The amended SR joins the replaced SR's series and names it
/// in the Predecessor Documents Sequence; the amended rendering joins the replaced rendering's series.
public struct ReportAmendment: Sendable, Equatable {
    /// The replaced SR (same study): SOP Instance UID and its series.
    public var replacedSRInstanceUID: String?
    public var replacedSRSeriesUID: String?
    /// The series of the replaced rendered report (Secondary Capture).
    public var replacedRenderingSeriesUID: String?
    /// Instance Number of the new objects in those series (the analysis version).
    public var instanceNumber: Int
    /// Why it was re-issued, in words (written into the SR and onto the rendering).
    public var reason: String
    public init(replacedSRInstanceUID: String?, replacedSRSeriesUID: String?, replacedRenderingSeriesUID: String?,
                instanceNumber: Int, reason: String) {
        self.replacedSRInstanceUID = replacedSRInstanceUID; self.replacedSRSeriesUID = replacedSRSeriesUID
        self.replacedRenderingSeriesUID = replacedRenderingSeriesUID; self.instanceNumber = instanceNumber
        self.reason = reason
    }
}

/// What was done to the analysed image before the network, and whether it was lossy compressed: stated in
/// the SR and the rendering, and Lossy Image Compression "01" on the Secondary Capture when the source was lossy.
public struct SourceProvenance: Sendable, Equatable {
    public var lossy: Bool
    public var lossyRatio: [Double]
    public var lossyMethod: [String]
    /// e.g. "MONOCHROME1 inverted for display, VOI window"
    public var preprocessing: String
    public init(lossy: Bool, lossyRatio: [Double] = [], lossyMethod: [String] = [], preprocessing: String) {
        self.lossy = lossy; self.lossyRatio = lossyRatio; self.lossyMethod = lossyMethod; self.preprocessing = preprocessing
    }

    /// One line for people: "Input: lossy compressed (ratio 10, ISO_10918_1); MONOCHROME1 inverted, VOI window".
    public var text: String {
        var s = lossy ? "Input: LOSSY compressed" : "Input: not lossy compressed"
        var detail: [String] = []
        if !lossyRatio.isEmpty { detail.append("ratio " + lossyRatio.map { String(format: "%g", $0) }.joined(separator: "/")) }
        if !lossyMethod.isEmpty { detail.append(lossyMethod.joined(separator: "/")) }
        if !detail.isEmpty { s += " (" + detail.joined(separator: ", ") + ")" }
        return preprocessing.isEmpty ? s : s + "; " + preprocessing
    }

    /// Lossy Image Compression Ratio / Method values for the Secondary Capture (DS / CS multi-valued). Values
    /// copied from a hostile header that DICOM would refuse are left out rather than failing the report.
    var ratioValue: String {
        lossyRatio.filter { $0.isFinite && $0 > 0 && $0 < 1e9 }.map { String(format: "%g", $0) }.joined(separator: "\\")
    }
    var methodValue: String {
        lossyMethod.filter { v in !v.isEmpty && v.count <= 16 && v.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" || $0 == " " } && v.allSatisfy(\.isASCII) }
            .joined(separator: "\\")
    }
}
