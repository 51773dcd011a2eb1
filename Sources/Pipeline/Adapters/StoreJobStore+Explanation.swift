import Foundation
import Store

/// Explanation outputs are ordinary rows of Store's `outputs` table (kinds EXPLAIN-SC and EXPLAIN-SEG) attached to the
/// analysis they explain, so `brixia show` lists them; the SOP Instance UID column is UNIQUE.
extension StoreJobStore: ExplanationOutputStore {
    func analysisID(_ study: String, version: Int) throws -> Int64 {
        guard let a = try store.analyses(studyInstanceUID: study).first(where: { $0.version == version }) else {
            throw StoreError.invalidInput(field: "analysis", reason: "study \(study) has no analysis version \(version)")
        }
        return a.id
    }

    public func explanationOutputUIDs(studyInstanceUID: String, version: Int) throws -> [String] {
        try store.outputs(analysisID: try analysisID(studyInstanceUID, version: version))
            .filter { $0.kind == explanationOutputKind || $0.kind == explanationSegmentationKind }.map(\.sopInstanceUID)
    }

    public func recordExplanation(studyInstanceUID: String, version: Int, kind: String, sopInstanceUID: String,
                                  seriesInstanceUID: String?, file: URL, at: Date) throws {
        try store.addOutputs(analysisID: try analysisID(studyInstanceUID, version: version), outputs: [
            NewOutput(kind: kind, sopInstanceUID: sopInstanceUID, seriesInstanceUID: seriesInstanceUID,
                      filePath: file.path)], now: at)
    }
}
