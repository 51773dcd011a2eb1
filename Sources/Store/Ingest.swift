import BrixiaDomain
import Foundation
import GRDB

extension BrixiaStore {
    /// Records one received file, idempotently, in one transaction:
    /// - same SOP Instance UID + same hash: `.duplicate`, nothing changes;
    /// - same UID + different hash: new revision of the instance; the study is re-analysed;
    /// - new UID: patient/study/series are created or completed; a new study gets a job in `received`.
    /// New or changed eligible content for a finished study (done/failed/quarantined) re-queues it;
    /// for a study being processed it sets `rerunRequested`.
    @discardableResult
    public func recordInstance(_ incoming: IncomingInstance, now: Date = Date()) throws -> IngestResult {
        let item = try incoming.validated()
        return try pool.write { db in
            if let existing = try InstanceRecord.fetchOne(
                db, sql: "SELECT * FROM instances WHERE sop_instance_uid = ?", arguments: [item.sopInstanceUID]) {
                return try recordRedelivery(db, item, existing: existing, now: now)
            }
            return try recordNewInstance(db, item, now: now)
        }
    }

    private func recordRedelivery(_ db: Database, _ item: IncomingInstance, existing: InstanceRecord,
                                  now: Date) throws -> IngestResult {
        let study = try StudyRecord.fetchOne(db, sql: "SELECT * FROM studies WHERE id = ?", arguments: [existing.studyRef])!
        guard study.studyInstanceUID == item.studyInstanceUID else {
            throw StoreError.conflict("SOP instance \(item.sopInstanceUID) (file \(item.filePath)) is already filed under study \(study.studyInstanceUID), not \(item.studyInstanceUID)")
        }
        let job = try jobForStudy(db, studyRef: study.id)
        if existing.contentSHA256 == item.contentSHA256 {
            try EventLog.append(db, at: now, kind: "duplicate", study: study.id, job: job.id, instance: existing.id,
                                message: "same SOP Instance UID and content hash; ignored (file \(item.filePath))")
            return IngestResult(outcome: .duplicate, instanceID: existing.id, studyID: study.id, studyIsNew: false,
                                jobState: job.state, requeued: false)
        }
        let revision = existing.revision + 1
        try db.execute(sql: """
            UPDATE instances SET file_path = ?, content_sha256 = ?, acquisition_datetime = ?, eligible = ?,
                eligibility_reason = ?, sop_class_uid = COALESCE(?, sop_class_uid), revision = ?, updated_at = ?
            WHERE id = ?
            """, arguments: [item.filePath, item.contentSHA256, item.acquisitionDateTime, item.eligible,
                             item.eligibilityReason, item.sopClassUID, revision, now, existing.id])
        try refreshStudyOrdering(db, studyRef: study.id, now: now)
        try EventLog.append(db, at: now, kind: "content-changed", study: study.id, job: job.id, instance: existing.id,
                            message: "SOP instance \(item.sopInstanceUID) revision \(revision) (new content hash)")
        let (state, requeued) = try requeueForNewContent(db, job: job, eligible: item.eligible || existing.eligible,
                                                         reason: "content of \(item.sopInstanceUID) changed", now: now)
        return IngestResult(outcome: .contentChanged(revision: revision), instanceID: existing.id, studyID: study.id,
                            studyIsNew: false, jobState: state, requeued: requeued)
    }

    private func recordNewInstance(_ db: Database, _ item: IncomingInstance, now: Date) throws -> IngestResult {
        let patientRef = try Int64.fetchOne(db, sql: """
            INSERT INTO patients (patient_id, issuer, name, sex, birth_date, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (patient_id, issuer) DO UPDATE SET
                name = COALESCE(excluded.name, name), sex = COALESCE(excluded.sex, sex),
                birth_date = COALESCE(excluded.birth_date, birth_date), updated_at = excluded.updated_at
            RETURNING id
            """, arguments: [item.patientID, item.issuerOfPatientID ?? "", item.patientName, item.patientSex,
                             item.patientBirthDate, now, now])!

        var studyIsNew = false
        let studyRef: Int64
        if let study = try StudyRecord.fetchOne(db, sql: "SELECT * FROM studies WHERE study_uid = ?",
                                                arguments: [item.studyInstanceUID]) {
            guard study.patientRef == patientRef else {
                throw StoreError.conflict("study \(item.studyInstanceUID) belongs to another patient than the one in \(item.filePath)")
            }
            studyRef = study.id
            // Keep the first values; fill what earlier instances lacked.
            try db.execute(sql: """
                UPDATE studies SET study_date = COALESCE(study_date, ?), study_time = COALESCE(study_time, ?),
                    accession_number = COALESCE(accession_number, ?), description = COALESCE(description, ?)
                WHERE id = ?
                """, arguments: [item.studyDate, item.studyTime, item.accessionNumber, item.studyDescription, studyRef])
        } else {
            studyIsNew = true
            try db.execute(sql: """
                INSERT INTO studies (study_uid, patient_ref, study_date, study_time, accession_number, description,
                                     created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [item.studyInstanceUID, patientRef, item.studyDate, item.studyTime,
                                 item.accessionNumber, item.studyDescription, now, now])
            studyRef = db.lastInsertedRowID
        }

        let seriesRef: Int64
        if let series = try SeriesRecord.fetchOne(db, sql: "SELECT * FROM series WHERE series_uid = ?",
                                                  arguments: [item.seriesInstanceUID]) {
            guard series.studyRef == studyRef else {
                throw StoreError.conflict("series \(item.seriesInstanceUID) is already filed under another study than \(item.studyInstanceUID) (file \(item.filePath))")
            }
            seriesRef = series.id
        } else {
            try db.execute(sql: """
                INSERT INTO series (series_uid, study_ref, modality, series_number, description, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [item.seriesInstanceUID, studyRef, item.modality, item.seriesNumber,
                                 item.seriesDescription, now])
            seriesRef = db.lastInsertedRowID
        }

        try db.execute(sql: """
            INSERT INTO instances (sop_instance_uid, sop_class_uid, series_ref, study_ref, file_path, content_sha256,
                                   acquisition_datetime, eligible, eligibility_reason, revision, received_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
            """, arguments: [item.sopInstanceUID, item.sopClassUID, seriesRef, studyRef, item.filePath,
                             item.contentSHA256, item.acquisitionDateTime, item.eligible, item.eligibilityReason,
                             now, now])
        let instanceRef = db.lastInsertedRowID
        try refreshStudyOrdering(db, studyRef: studyRef, now: now)

        let state: JobState
        var requeued = false
        if studyIsNew {
            try db.execute(sql: """
                INSERT INTO jobs (study_ref, state, created_at, updated_at) VALUES (?, 'received', ?, ?)
                """, arguments: [studyRef, now, now])
            let jobRef = db.lastInsertedRowID
            try EventLog.append(db, at: now, kind: "instance-received", study: studyRef, job: jobRef,
                                instance: instanceRef, to: .received, message: "new study; job created")
            state = .received
        } else {
            let job = try jobForStudy(db, studyRef: studyRef)
            try EventLog.append(db, at: now, kind: "instance-received", study: studyRef, job: job.id,
                                instance: instanceRef, message: "late instance \(item.sopInstanceUID)")
            (state, requeued) = try requeueForNewContent(db, job: job, eligible: item.eligible,
                                                         reason: "late instance \(item.sopInstanceUID)", now: now)
        }
        return IngestResult(outcome: .new, instanceID: instanceRef, studyID: studyRef, studyIsNew: studyIsNew,
                            jobState: state, requeued: requeued)
    }

    /// Recomputes the study's chronological key (`ExamOrder`): StudyDate/StudyTime, else the earliest acquisition date/time.
    func refreshStudyOrdering(_ db: Database, studyRef: Int64, now: Date) throws {
        let study = try StudyRecord.fetchOne(db, sql: "SELECT * FROM studies WHERE id = ?", arguments: [studyRef])!
        let acquisitions = try String.fetchAll(db, sql: """
            SELECT acquisition_datetime FROM instances WHERE study_ref = ? AND acquisition_datetime IS NOT NULL
            """, arguments: [studyRef])
        let earliest = acquisitions.compactMap { raw in DicomDateKey.key(dateTime: raw).map { ($0, raw) } }.min { $0.0 < $1.0 }
        let order = ExamOrder(studyDate: study.studyDate, studyTime: study.studyTime, acquisitionDateTimes: acquisitions,
                              studyInstanceUID: study.studyInstanceUID)
        try db.execute(sql: "UPDATE studies SET acquisition_datetime = ?, sort_key = ?, updated_at = ? WHERE id = ?",
                       arguments: [earliest?.1, order.dateKey, now, studyRef])
    }

    /// New content for an existing study. Returns the job state afterwards and whether a re-run was scheduled.
    private func requeueForNewContent(_ db: Database, job: JobRecord, eligible: Bool, reason: String,
                                      now: Date) throws -> (JobState, Bool) {
        // Ineligible images cannot change the result, so they do not trigger a re-analysis.
        guard eligible else { return (job.state, false) }
        switch job.state {
        case .received, .queued:
            return (job.state, false)  // not analysed yet: the new instance is simply part of the study
        case .processing:
            try db.execute(sql: "UPDATE jobs SET rerun_requested = 1, updated_at = ? WHERE id = ?", arguments: [now, job.id])
            try EventLog.append(db, at: now, kind: "rerun-requested", study: job.studyRef, job: job.id,
                                message: "\(reason) while processing")
            return (.processing, true)
        case .done, .failed, .quarantined:
            try transition(db, job: job, to: .queued, now: now, actor: "ingest", message: reason, resetAttempts: true)
            return (.queued, true)
        }
    }
}
