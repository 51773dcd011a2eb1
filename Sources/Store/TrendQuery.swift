import BrixiaDomain
import Foundation
import GRDB

extension BrixiaStore {
    /// The patient's scored exams in date order, with deltas, labels and alerts (latest analysis version
    /// per study; studies without an analysis are not exams yet). With `issuer` nil, the PatientID must
    /// be unambiguous across issuers.
    public func trend(patientID: String, issuer: String? = nil, options: TrendOptions? = nil) throws -> PatientTrend {
        try pool.read { db in
            let patientRef = try resolvePatient(db, patientID: patientID, issuer: issuer)
            let exams = try examScores(db, patientRef: patientRef)
            return TrendCalculator.compute(patientID: patientID, exams: exams, options: options ?? configuration.trend)
        }
    }

    /// Earlier studies of the same patient (PatientID + IssuerOfPatientID), most recent first, in
    /// `ExamOrder` (never by arrival). Empty for an undated study.
    public func priorStudies(studyInstanceUID uid: String) throws -> [StudyRecord] {
        try pool.read { db in
            guard let study = try StudyRecord.fetchOne(db, sql: "SELECT * FROM studies WHERE study_uid = ?", arguments: [uid]) else {
                throw StoreError.unknownStudy(uid)
            }
            return try priorStudies(db, of: study)
        }
    }

    /// The most recent earlier study that has an analysis, with its latest analysis: what a report
    /// compares against.
    public func priorAnalysis(studyInstanceUID uid: String) throws -> (study: StudyRecord, analysis: AnalysisRecord)? {
        let priors = try priorStudies(studyInstanceUID: uid)
        return try pool.read { db in
            for prior in priors {
                if let analysis = try AnalysisRecord.fetchOne(db, sql: """
                    SELECT * FROM analyses WHERE study_ref = ? ORDER BY version DESC LIMIT 1
                    """, arguments: [prior.id]) {
                    return (prior, analysis)
                }
            }
            return nil
        }
    }

    /// Alerts recorded for a study's analyses.
    public func alerts(studyInstanceUID uid: String) throws -> [AlertRecord] {
        try pool.read { db in
            try AlertRecord.fetchAll(db, sql: """
                SELECT alerts.* FROM alerts JOIN analyses ON analyses.id = alerts.analysis_ref
                JOIN studies ON studies.id = analyses.study_ref WHERE studies.study_uid = ? ORDER BY alerts.id
                """, arguments: [uid])
        }
    }

    // MARK: internals

    func resolvePatient(_ db: Database, patientID: String, issuer: String?) throws -> Int64 {
        if let issuer {
            guard let ref = try Int64.fetchOne(db, sql: "SELECT id FROM patients WHERE patient_id = ? AND issuer = ?",
                                               arguments: [patientID, issuer]) else {
                throw StoreError.unknownPatient(patientID: patientID, issuer: issuer)
            }
            return ref
        }
        let rows = try Row.fetchAll(db, sql: "SELECT id, issuer FROM patients WHERE patient_id = ? ORDER BY issuer",
                                    arguments: [patientID])
        guard !rows.isEmpty else { throw StoreError.unknownPatient(patientID: patientID, issuer: nil) }
        guard rows.count == 1 else {
            throw StoreError.ambiguousPatient(patientID: patientID, issuers: rows.map { $0["issuer"] })
        }
        return rows[0]["id"]
    }

    /// The patient's dated studies before `study` in `ExamOrder`, most recent first.
    func priorStudies(_ db: Database, of study: StudyRecord) throws -> [StudyRecord] {
        guard study.order.isDated else { return [] }
        return try StudyRecord.fetchAll(db, sql: "SELECT * FROM studies WHERE patient_ref = ? AND sort_key IS NOT NULL",
                                        arguments: [study.patientRef])
            .filter { $0.order < study.order }
            .sorted { $1.order < $0.order }
    }

    func examScores(_ db: Database, patientRef: Int64) throws -> [ExamScore] {
        // The latest version per study through the UNIQUE(study_ref, version) index.
        try Row.fetchAll(db, sql: """
            SELECT s.study_uid, s.sort_key, a.id, a.zone_a, a.zone_b, a.zone_c, a.zone_d, a.zone_e, a.zone_f,
                   s.acquisition_datetime, a.confidence
            FROM studies s
            JOIN analyses a ON a.study_ref = s.id
             AND a.version = (SELECT MAX(version) FROM analyses WHERE study_ref = s.id)
            WHERE s.patient_ref = ?
            ORDER BY s.sort_key, s.study_uid
            """, arguments: [patientRef]).map { row in
            ExamScore(studyInstanceUID: row["study_uid"], sortKey: row["sort_key"],
                      zones: ZoneGrades(unchecked: (3...8).map { row[$0] }), analysisID: row["id"],
                      acquisitionKey: DicomDateKey.key(dateTime: row["acquisition_datetime"]),
                      confidence: row["confidence"])
        }
    }

    /// Evaluates the configured rules over the patient's trend and stores alerts not recorded yet.
    /// Re-evaluating the whole patient also covers a prior that arrived late (the next exam's delta changed).
    func recordAlerts(_ db: Database, patientRef: Int64, now: Date) throws -> [AlertRecord] {
        let patientID = try String.fetchOne(db, sql: "SELECT patient_id FROM patients WHERE id = ?", arguments: [patientRef])!
        let trend = TrendCalculator.compute(patientID: patientID, exams: try examScores(db, patientRef: patientRef),
                                            options: configuration.trend)
        var recorded = [AlertRecord]()
        for exam in trend.exams {
            guard let analysisRef = exam.analysisID else { continue }
            for alert in exam.alerts {
                let prior = alert.rule.hasPrefix("global>=") ? nil : exam.priorAnalysisID
                try db.execute(sql: """
                    INSERT OR IGNORE INTO alerts (analysis_ref, prior_analysis_ref, rule, value, message, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [analysisRef, prior, alert.rule, alert.value, alert.message, now])
                if db.changesCount > 0 {
                    let id = db.lastInsertedRowID
                    let studyRef = try Int64.fetchOne(db, sql: "SELECT study_ref FROM analyses WHERE id = ?", arguments: [analysisRef])
                    try EventLog.append(db, at: now, kind: "alert", study: studyRef, analysis: analysisRef,
                                        message: "\(alert.rule): \(alert.message)")
                    recorded.append(try AlertRecord.fetchOne(db, sql: "SELECT * FROM alerts WHERE id = ?", arguments: [id])!)
                }
            }
        }
        return recorded
    }
}
