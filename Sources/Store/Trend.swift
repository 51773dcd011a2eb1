import BrixiaDomain

/// Trend settings. A change of the global score is "worse"/"better" when |delta| >= threshold
/// (default 2: one grade in two zones, or two grades in one, is more than reader noise); else "stable".
public struct TrendOptions: Sendable, Equatable {
    public var threshold: Int
    public var rules: [AlertRule]

    public init(threshold: Int = 2, rules: [AlertRule] = AlertRule.defaults) {
        self.threshold = max(1, threshold)
        self.rules = rules
    }
}

/// One scored exam as input to the trend: the latest analysis of a study.
public struct ExamScore: Sendable, Equatable {
    public var studyInstanceUID: String
    /// `DicomDateKey` of the study (nil when undated).
    public var sortKey: String?
    public var zones: ZoneGrades
    public var analysisID: Int64?
    /// `DicomDateKey` of the study's earliest acquisition (the second key of `ExamOrder`).
    public var acquisitionKey: String?
    /// The analysis's study confidence (nil: not recorded, e.g. an uncalibrated model).
    public var confidence: Double?

    public init(studyInstanceUID: String, sortKey: String?, zones: ZoneGrades, analysisID: Int64? = nil,
                acquisitionKey: String? = nil, confidence: Double? = nil) {
        self.confidence = confidence
        self.studyInstanceUID = studyInstanceUID
        self.sortKey = sortKey
        self.zones = zones
        self.analysisID = analysisID
        self.acquisitionKey = acquisitionKey
    }

    public var order: ExamOrder { ExamOrder(dateKey: sortKey, acquisitionKey: acquisitionKey, studyInstanceUID: studyInstanceUID) }
}

public struct TrendExam: Codable, Equatable, Sendable {
    public let studyInstanceUID: String
    /// ISO 8601: "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM:SS" when the study time is known; null when undated.
    public let date: String?
    public let zones: ZoneGrades
    public let global: Int
    /// Global score minus the prior exam's; null for the baseline and undated exams.
    public let delta: Int?
    public let trend: TrendLabel
    public let alerts: [FiredAlert]
    /// Not part of the JSON: the analyses compared, for recording alerts.
    public var analysisID: Int64? = nil
    public var priorAnalysisID: Int64? = nil

    enum CodingKeys: String, CodingKey {
        case studyInstanceUID, date, zones, global, delta, trend, alerts
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(studyInstanceUID, forKey: .studyInstanceUID)
        try c.encode(date, forKey: .date)  // explicit null rather than a missing key
        try c.encode(zones, forKey: .zones)
        try c.encode(global, forKey: .global)
        try c.encode(delta, forKey: .delta)
        try c.encode(trend, forKey: .trend)
        try c.encode(alerts, forKey: .alerts)
    }
}

/// `brixia trend --json` output: {"patientID", "exams": [...]} with exams in date order.
public struct PatientTrend: Codable, Equatable, Sendable {
    public let patientID: String
    public let exams: [TrendExam]
}

/// Pure trend logic: orders exams by `ExamOrder` (never by arrival), computes deltas against the previous dated
/// exam, labels them and evaluates alert rules.
public enum TrendCalculator {
    public static func compute(patientID: String, exams: [ExamScore], options: TrendOptions = TrendOptions()) -> PatientTrend {
        let dated = exams.filter { $0.sortKey != nil }.sorted { $0.order < $1.order }
        let undated = exams.filter { $0.sortKey == nil }.sorted { $0.order < $1.order }

        var result = [TrendExam]()
        var prior: ExamScore?
        for exam in dated {
            let delta = prior.map { exam.zones.global - $0.zones.global }
            let label = TrendLabel.classify(isDated: true, globalDelta: delta, threshold: options.threshold)
            let priorDate = DicomDateKey.display(prior?.sortKey)
            let alerts = options.rules.compactMap { $0.evaluate(current: exam.zones, prior: prior?.zones, priorDate: priorDate,
                                                                 confidence: exam.confidence) }
            result.append(TrendExam(studyInstanceUID: exam.studyInstanceUID, date: DicomDateKey.display(exam.sortKey),
                                    zones: exam.zones, global: exam.zones.global, delta: delta, trend: label,
                                    alerts: alerts, analysisID: exam.analysisID, priorAnalysisID: prior?.analysisID))
            prior = exam
        }
        for exam in undated {
            let alerts = options.rules.compactMap { $0.evaluate(current: exam.zones, prior: nil, priorDate: nil, confidence: exam.confidence) }
            result.append(TrendExam(studyInstanceUID: exam.studyInstanceUID, date: nil, zones: exam.zones,
                                    global: exam.zones.global, delta: nil, trend: .undated, alerts: alerts,
                                    analysisID: exam.analysisID, priorAnalysisID: nil))
        }
        return PatientTrend(patientID: patientID, exams: result)
    }
}
