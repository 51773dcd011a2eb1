import BrixiaDomain
import Foundation
@testable import Store

/// A fresh database in its own temporary directory; removed when the value is released.
final class TempStore: Sendable {
    let directory: URL
    let path: String
    let store: BrixiaStore

    init(configuration: StoreConfiguration = StoreConfiguration()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("brixia.sqlite").path
        store = try BrixiaStore(path: path, configuration: configuration)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

enum Fixture {
    static let t0 = Date(timeIntervalSince1970: 1_600_000_000)

    static func hash(_ seed: String) -> String {
        // 64 hex digits derived from the seed; content identity is all the store cares about.
        var h: UInt64 = 1469598103934665603
        for b in seed.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return String(repeating: String(format: "%016llx", h), count: 4)
    }

    static func instance(patient: String = "P1", issuer: String? = "HOSP", study: String, date: String? = "20200301",
                         time: String? = "101500", series: String? = nil, sop: String, content: String? = nil,
                         acquisition: String? = nil, eligible: Bool = true, name: String? = "Doe^Jane") -> IncomingInstance {
        IncomingInstance(patientID: patient, issuerOfPatientID: issuer, patientName: name, patientSex: "F",
                         patientBirthDate: "19600101", studyInstanceUID: study, studyDate: date, studyTime: time,
                         accessionNumber: "ACC-\(study)", studyDescription: "CHEST", seriesInstanceUID: series ?? "\(study).1",
                         modality: "CR", seriesNumber: 1, sopInstanceUID: sop, sopClassUID: "1.2.840.10008.5.1.4.1.1.1",
                         acquisitionDateTime: acquisition, filePath: "/inbox/\(sop).dcm",
                         contentSHA256: hash(content ?? sop), eligible: eligible,
                         eligibilityReason: eligible ? nil : "lateral view")
    }

    static func analysis(sop: String?, grades: [Int]) throws -> NewAnalysis {
        NewAnalysis(sopInstanceUID: sop, model: ModelIdentity(name: "BS-Net", version: "1.0.0",
                                                            weightsSHA256: String(repeating: "ab", count: 32)),
                    zones: try ZoneGrades(a: grades[0], b: grades[1], c: grades[2], d: grades[3], e: grades[4], f: grades[5]),
                    probabilities: [.A: [0.1, 0.2, 0.3, 0.4]], theta: [1, 0, 0, 0, 1, 0], confidence: 0.8,
                    timingsMS: ["inference": 120.5])
    }

    /// Records one single-instance study and runs it to `done` with the given grades.
    @discardableResult
    static func scoredStudy(_ store: BrixiaStore, patient: String = "P1", issuer: String? = "HOSP", study: String,
                            date: String?, time: String? = "101500", acquisition: String? = nil, grades: [Int],
                            now: Date = t0) throws -> JobCompletion {
        let sop = "\(study).1.1"
        try store.recordInstance(instance(patient: patient, issuer: issuer, study: study, date: date, time: time,
                                          sop: sop, acquisition: acquisition), now: now)
        try store.enqueue(studyInstanceUID: study, now: now)
        let claimed = try require_(store.claimNextJob(owner: "worker-1", now: now), "claimed job")
        return try store.completeJob(jobID: claimed.job.id, owner: "worker-1", analysis: analysis(sop: sop, grades: grades),
                                     outputs: [NewOutput(kind: "SR", sopInstanceUID: "\(study).9.1", filePath: "/out/\(study)-sr.dcm")],
                                     now: now)
    }
}

struct FixtureError: Error, CustomStringConvertible { let description: String }

/// `#require` only works inside a test body; fixtures use this instead.
func require_<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw FixtureError(description: "missing \(what)") }
    return value
}

enum RepoPaths {
    /// Repository root: Tests/StoreTests/TestSupport.swift is three levels down.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let schemas = root.appendingPathComponent("Schemas")
}
