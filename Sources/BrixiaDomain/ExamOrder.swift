import Foundation

/// The one rule that orders a patient's exams. The store's priors and trend, the pipeline's batch
/// order, the SR's prior and change, and `brixia trend` all use it (docs/store.md, "Exam order"):
/// 1. the exam date: StudyDate + StudyTime, else the earliest AcquisitionDateTime of the study's
///    instances (`dateKey`). An exam with neither is undated: it comes after every dated exam, is
///    never a prior and gets no change;
/// 2. then the earliest acquisition date/time (separates two studies of one day without StudyTime);
///    a missing one sorts first;
/// 3. then the Study Instance UID as text: arbitrary, but the same on every run and machine.
/// Arrival order and file names never count.
public struct ExamOrder: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// `DicomDateKey` of the exam date (nil: undated).
    public var dateKey: String?
    /// `DicomDateKey` of the earliest acquisition date/time (nil: none).
    public var acquisitionKey: String?
    public var studyInstanceUID: String

    public init(dateKey: String?, acquisitionKey: String?, studyInstanceUID: String) {
        self.dateKey = dateKey; self.acquisitionKey = acquisitionKey; self.studyInstanceUID = studyInstanceUID
    }

    /// From the raw DICOM values of a study (DA, TM, and the DT of each of its instances).
    public init(studyDate: String?, studyTime: String?, acquisitionDateTimes: [String?], studyInstanceUID: String) {
        let acquisition = Self.earliestAcquisitionKey(acquisitionDateTimes)
        self.init(dateKey: DicomDateKey.key(date: studyDate, time: studyTime) ?? acquisition,
                  acquisitionKey: acquisition, studyInstanceUID: studyInstanceUID)
    }

    public var isDated: Bool { dateKey != nil }

    /// "YYYYMMDD" of the exam date (what reports print), nil when undated.
    public var day: String? { dateKey.map { String($0.prefix(8)) } }

    public static func earliestAcquisitionKey(_ values: [String?]) -> String? {
        values.compactMap { DicomDateKey.key(dateTime: $0) }.min()
    }

    public static func < (a: ExamOrder, b: ExamOrder) -> Bool {
        switch (a.dateKey, b.dateKey) {
        case (nil, .some): return false
        case (.some, nil): return true
        case let (x?, y?) where x != y: return x < y
        default: break
        }
        let ax = a.acquisitionKey ?? "", bx = b.acquisitionKey ?? ""
        if ax != bx { return ax < bx }
        return a.studyInstanceUID < b.studyInstanceUID
    }

    public var description: String {
        "\(DicomDateKey.display(dateKey) ?? "undated") (\(studyInstanceUID))"
    }
}
