import Foundation
import GRDB

/// A study with its patient, series and instances: what a worker needs to pick the image to analyse.
public struct StudyAssembly: Sendable {
    public let patient: PatientRecord
    public let study: StudyRecord
    public let series: [SeriesRecord]
    /// All instances of the study, ordered by series then SOP Instance UID.
    public let instances: [InstanceRecord]
    public var eligibleInstances: [InstanceRecord] { instances.filter(\.eligible) }
}

extension BrixiaStore {
    public func assembly(studyInstanceUID uid: String) throws -> StudyAssembly {
        try pool.read { db in
            guard let ref = try Int64.fetchOne(db, sql: "SELECT id FROM studies WHERE study_uid = ?", arguments: [uid]) else {
                throw StoreError.unknownStudy(uid)
            }
            return try assembly(db, studyRef: ref)
        }
    }

    /// All analyses of a study, oldest version first.
    public func analyses(studyInstanceUID uid: String) throws -> [AnalysisRecord] {
        try pool.read { db in
            try AnalysisRecord.fetchAll(db, sql: """
                SELECT analyses.* FROM analyses JOIN studies ON studies.id = analyses.study_ref
                WHERE studies.study_uid = ? ORDER BY analyses.version
                """, arguments: [uid])
        }
    }

    /// The study an analysis belongs to (nil: no such analysis).
    public func studyInstanceUID(analysisID: Int64) throws -> String? {
        try pool.read { db in
            try String.fetchOne(db, sql: """
                SELECT studies.study_uid FROM analyses JOIN studies ON studies.id = analyses.study_ref WHERE analyses.id = ?
                """, arguments: [analysisID])
        }
    }

    public func outputs(analysisID: Int64) throws -> [OutputRecord] {
        try pool.read { db in
            try OutputRecord.fetchAll(db, sql: "SELECT * FROM outputs WHERE analysis_ref = ? ORDER BY id", arguments: [analysisID])
        }
    }

    /// The version the next analysis of this study will get (1 when none yet). Only the worker that owns
    /// the study's job should rely on it (e.g. to write it into the SR before `completeJob`).
    public func nextAnalysisVersion(studyInstanceUID uid: String) throws -> Int {
        try pool.read { db in
            guard let ref = try Int64.fetchOne(db, sql: "SELECT id FROM studies WHERE study_uid = ?", arguments: [uid]) else {
                throw StoreError.unknownStudy(uid)
            }
            return try nextVersion(db, studyRef: ref)
        }
    }

    /// Adds outputs written after the analysis was stored.
    @discardableResult
    public func addOutputs(analysisID: Int64, outputs: [NewOutput], now: Date = Date()) throws -> [OutputRecord] {
        try pool.write { db in
            guard let studyRef = try Int64.fetchOne(db, sql: "SELECT study_ref FROM analyses WHERE id = ?",
                                                    arguments: [analysisID]) else {
                throw StoreError.invalidInput(field: "analysis", reason: "no analysis #\(analysisID)")
            }
            let stored = try insertOutputs(db, analysisRef: analysisID, outputs: outputs, now: now)
            try EventLog.append(db, at: now, kind: "outputs-recorded", study: studyRef, analysis: analysisID,
                                message: stored.map(\.kind).joined(separator: ", "))
            return stored
        }
    }

    // MARK: internals

    func assembly(_ db: Database, studyRef: Int64) throws -> StudyAssembly {
        let study = try StudyRecord.fetchOne(db, sql: "SELECT * FROM studies WHERE id = ?", arguments: [studyRef])!
        let patient = try PatientRecord.fetchOne(db, sql: "SELECT * FROM patients WHERE id = ?", arguments: [study.patientRef])!
        let series = try SeriesRecord.fetchAll(db, sql: "SELECT * FROM series WHERE study_ref = ? ORDER BY series_number, series_uid",
                                               arguments: [studyRef])
        let instances = try InstanceRecord.fetchAll(db, sql: """
            SELECT instances.* FROM instances JOIN series ON series.id = instances.series_ref
            WHERE instances.study_ref = ? ORDER BY series.series_number, series.series_uid, instances.sop_instance_uid
            """, arguments: [studyRef])
        return StudyAssembly(patient: patient, study: study, series: series, instances: instances)
    }

    func nextVersion(_ db: Database, studyRef: Int64) throws -> Int {
        // Not-scored results share the study's version sequence (Schemas/0004_not_scored.sql).
        try Int.fetchOne(db, sql: """
            SELECT MAX(COALESCE((SELECT MAX(version) FROM analyses WHERE study_ref = ?), 0),
                       COALESCE((SELECT MAX(version) FROM not_scored WHERE study_ref = ?), 0)) + 1
            """, arguments: [studyRef, studyRef])!
    }

    func insertAnalysis(_ db: Database, studyRef: Int64, analysis: NewAnalysis, now: Date) throws -> AnalysisRecord {
        var instanceRef: Int64?
        var instanceRevision: Int?
        if let uid = analysis.sopInstanceUID {
            guard let row = try Row.fetchOne(db, sql: "SELECT id, revision FROM instances WHERE sop_instance_uid = ? AND study_ref = ?",
                                             arguments: [uid, studyRef]) else {
                throw StoreError.invalidInput(field: "analysis SOP Instance UID", reason: "\(uid) is not an instance of this study")
            }
            instanceRef = row["id"]
            instanceRevision = row["revision"]
        }
        for (field, value) in [("model name", analysis.model.name), ("model version", analysis.model.version),
                               ("weights SHA-256", analysis.model.weightsSHA256)] where value.isEmpty {
            throw StoreError.invalidInput(field: field, reason: "empty")
        }
        let probabilities = analysis.probabilities.map { dict in
            Dictionary(uniqueKeysWithValues: dict.map { ($0.key.rawValue, $0.value) })
        }
        for (field, value) in [("confidence", analysis.confidence)] + (analysis.zoneConfidence ?? [:]).map({ ("zone \($0.key.rawValue) confidence", $0.value) })
        where value.map({ !($0.isFinite && $0 >= 0 && $0 <= 1) }) ?? false {
            throw StoreError.invalidInput(field: field, reason: "\(value!) not in 0...1")
        }
        if let t = analysis.calibrationTemperature, !(t.isFinite && t > 0) {
            throw StoreError.invalidInput(field: "calibration temperature", reason: "\(t) is not a finite number > 0")
        }
        let zoneConfidence = analysis.zoneConfidence.map { dict in
            Dictionary(uniqueKeysWithValues: dict.map { ($0.key.rawValue, $0.value) })
        }
        var priorRef: Int64?
        if case .study(let uid) = analysis.reportedPrior {
            guard let ref = try Int64.fetchOne(db, sql: """
                SELECT a.id FROM analyses a JOIN studies s ON s.id = a.study_ref WHERE s.study_uid = ?
                ORDER BY a.version DESC LIMIT 1
                """, arguments: [uid]) else {
                throw StoreError.invalidInput(field: "prior", reason: "study \(uid) has no analysis")
            }
            priorRef = ref
        }
        let priorKnown = analysis.reportedPrior != .unknown
        // The version is computed inside the write transaction, and UNIQUE(study_ref, version) backs it up.
        let version = try nextVersion(db, studyRef: studyRef)
        let z = analysis.zones.ordered
        try db.execute(sql: """
            INSERT INTO analyses (study_ref, instance_ref, instance_revision, version, model_name, model_version,
                weights_sha256, zone_a, zone_b, zone_c, zone_d, zone_e, zone_f, global_score, probabilities, theta,
                confidence, timings, status, created_at, prior_analysis_ref, prior_known, zone_confidence,
                calibration_temperature)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [studyRef, instanceRef, instanceRevision, version, analysis.model.name, analysis.model.version,
                             analysis.model.weightsSHA256, z[0], z[1], z[2], z[3], z[4], z[5], analysis.zones.global,
                             try JSONColumn.encode(probabilities), try JSONColumn.encode(analysis.theta),
                             analysis.confidence, try JSONColumn.encode(analysis.timingsMS), analysis.status.rawValue, now,
                             priorRef, priorKnown ? 1 : 0, try JSONColumn.encode(zoneConfidence),
                             analysis.calibrationTemperature])
        let id = db.lastInsertedRowID
        if let p = analysis.provenance {
            try db.execute(sql: "UPDATE analyses SET input_provenance = ? WHERE id = ?", arguments: [try JSONColumn.encode(p), id])
        }
        return try AnalysisRecord.fetchOne(db, sql: "SELECT * FROM analyses WHERE id = ?", arguments: [id])!
    }

    func insertOutputs(_ db: Database, analysisRef: Int64, outputs: [NewOutput], now: Date) throws -> [OutputRecord] {
        try outputs.map { output in
            guard !output.kind.isEmpty, !output.sopInstanceUID.isEmpty, !output.filePath.isEmpty else {
                throw StoreError.invalidInput(field: "output", reason: "kind, SOP Instance UID and file path are required")
            }
            try db.execute(sql: """
                INSERT INTO outputs (analysis_ref, kind, sop_instance_uid, series_uid, file_path, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [analysisRef, output.kind, output.sopInstanceUID, output.seriesInstanceUID,
                                 output.filePath, now])
            return try OutputRecord.fetchOne(db, sql: "SELECT * FROM outputs WHERE id = ?", arguments: [db.lastInsertedRowID])!
        }
    }
}
