import BrixiaDomain
import Foundation
import GRDB
import Store

/// Synthetic data for benchmarks (`brixia dev fill-db`), kept out of the Store module (dev tooling, not the
/// product): patients "SYN0000001"... under issuer
/// "SYNTHETIC", each with scored, done studies at daily intervals. No names, no real data.
extension BrixiaStore {
    public struct SyntheticFillResult: Sendable {
        public let patients: Int
        public let studies: Int
        public let seconds: Double
    }

    public static let syntheticIssuer = "SYNTHETIC"

    public static func syntheticPatientID(_ index: Int) -> String {
        "SYN" + String(repeating: "0", count: max(0, 7 - String(index).count)) + String(index)
    }

    public func syntheticPatientCount() throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM patients WHERE issuer = ?", arguments: [Self.syntheticIssuer])!
        }
    }

    @discardableResult
    public func fillSynthetic(patients: Int, studiesPerPatient: Int, seed: UInt64 = 1,
                              now: Date = Date()) throws -> SyntheticFillResult {
        let start = Date()
        var rng = SplitMix64(seed)
        let hash = String(repeating: "0", count: 64)
        let weights = String(repeating: "f", count: 64)
        let firstPatient = try syntheticPatientCount()
        let batch = 500
        for batchStart in stride(from: 0, to: patients, by: batch) {
            try pool.write { db in
                for p in batchStart..<min(patients, batchStart + batch) {
                    let pid = Self.syntheticPatientID(firstPatient + p + 1)
                    try db.execute(sql: """
                        INSERT INTO patients (patient_id, issuer, created_at, updated_at) VALUES (?, ?, ?, ?)
                        """, arguments: [pid, Self.syntheticIssuer, now, now])
                    let patientRef = db.lastInsertedRowID
                    var grades = (0..<6).map { _ in Int(rng.next() % 2) }
                    for s in 0..<studiesPerPatient {
                        let uid = "2.25.\(seed).\(firstPatient + p + 1).\(s + 1)"
                        // Daily exams, inserted in reverse order so storage order differs from date order.
                        let day = Date(timeIntervalSince1970: 1_583_020_800 + Double(studiesPerPatient - s) * 86_400)
                        let da = Self.da(day)
                        try db.execute(sql: """
                            INSERT INTO studies (study_uid, patient_ref, study_date, study_time, sort_key, created_at, updated_at)
                            VALUES (?, ?, ?, '080000', ?, ?, ?)
                            """, arguments: [uid, patientRef, da, da + "080000.000000", now, now])
                        let studyRef = db.lastInsertedRowID
                        try db.execute(sql: "INSERT INTO series (series_uid, study_ref, modality, series_number, created_at) VALUES (?, ?, 'CR', 1, ?)",
                                       arguments: [uid + ".1", studyRef, now])
                        let seriesRef = db.lastInsertedRowID
                        try db.execute(sql: """
                            INSERT INTO instances (sop_instance_uid, series_ref, study_ref, file_path, content_sha256, eligible,
                                                   revision, received_at, updated_at)
                            VALUES (?, ?, ?, ?, ?, 1, 1, ?, ?)
                            """, arguments: [uid + ".1.1", seriesRef, studyRef, "/synthetic/\(uid).dcm", hash, now, now])
                        let instanceRef = db.lastInsertedRowID
                        for z in grades.indices { grades[z] = max(0, min(3, grades[z] + Int(rng.next() % 3) - 1)) }
                        try db.execute(sql: """
                            INSERT INTO analyses (study_ref, instance_ref, instance_revision, version, model_name, model_version,
                                weights_sha256, zone_a, zone_b, zone_c, zone_d, zone_e, zone_f, global_score, status, created_at)
                            VALUES (?, ?, 1, 1, 'BS-Net', 'synthetic', ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?)
                            """, arguments: [studyRef, instanceRef, weights, grades[0], grades[1], grades[2], grades[3],
                                             grades[4], grades[5], grades.reduce(0, +), now])
                        try db.execute(sql: """
                            INSERT INTO jobs (study_ref, state, attempts, created_at, updated_at, queued_at, started_at, finished_at)
                            VALUES (?, 'done', 1, ?, ?, ?, ?, ?)
                            """, arguments: [studyRef, now, now, now, now, now])
                    }
                }
            }
        }
        return SyntheticFillResult(patients: patients, studies: patients * studiesPerPatient,
                                   seconds: Date().timeIntervalSince(start))
    }

    private static func da(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
    }
}

