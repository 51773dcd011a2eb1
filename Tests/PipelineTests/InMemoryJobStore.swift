import BrixiaDomain
import Foundation
@testable import Pipeline

/// Test double of the persisted state machine, following the JobStore contract.
final class InMemoryJobStore: JobStore, @unchecked Sendable {
    struct Job { var job: StudyJob; var patientID: String; var studyDate: String?; var lastInstanceAt: Date; var rerun = false; var order: Int; var retryAt: Date? = nil; var crashes = 0 }
    private let lock = NSLock()
    private var instancesBySOP: [String: StoredInstance] = [:]
    private var jobsByStudy: [String: Job] = [:]
    private var analysesByStudy: [String: [StudyAnalysis]] = [:]

    func queuedCount() throws -> Int {
        lock.lock(); defer { lock.unlock() }
        return jobsByStudy.values.filter { $0.job.state == .queued }.count
    }
    private(set) var outputsByStudy: [String: [PublishedOutput]] = [:]
    private var counter = 0
    var failCommit: Error?

    private func locked<T>(_ f: () throws -> T) rethrows -> T { lock.lock(); defer { lock.unlock() }; return try f() }

    func instance(sopInstanceUID: String, studyInstanceUID: String) throws -> StoredInstance? {
        locked { instancesBySOP[sopInstanceUID].flatMap { $0.studyInstanceUID == studyInstanceUID ? $0 : nil } }
    }

    func recordArrival(_ m: InstanceMetadata, contentHash: String, path: String, at: Date) throws {
        locked {
            instancesBySOP[m.sopInstanceUID] = StoredInstance(sopInstanceUID: m.sopInstanceUID, studyInstanceUID: m.studyInstanceUID,
                                                              contentHash: contentHash, path: path)
            counter += 1
            var j = jobsByStudy[m.studyInstanceUID] ?? Job(
                job: StudyJob(studyInstanceUID: m.studyInstanceUID, state: .received, attempts: 0, lastError: nil, updatedAt: at),
                patientID: m.patientID, studyDate: m.studyDate, lastInstanceAt: at, order: counter)
            switch j.job.state {
            case .done, .failed, .quarantined: j.job.state = .queued; j.job.attempts = 0; j.order = counter
            case .processing: j.rerun = true
            default: break
            }
            j.lastInstanceAt = at
            jobsByStudy[m.studyInstanceUID] = j
        }
    }

    func promote(quietBefore: Date, now: Date) throws -> [String] {
        locked {
            var out: [String] = []
            for (k, var j) in jobsByStudy where j.job.state == .received && j.lastInstanceAt < quietBefore {
                j.job.state = .queued; j.job.updatedAt = now; counter += 1; j.order = counter
                jobsByStudy[k] = j; out.append(k)
            }
            return out
        }
    }

    func claimNext(now: Date, retryBefore: Date, excluding: Set<String>) throws -> StudyJob? {
        locked {
            guard let k = jobsByStudy.values.filter({ $0.job.state == .queued && !excluding.contains($0.job.studyInstanceUID)
                                                      && ($0.retryAt ?? .distantPast) <= retryBefore })
                .min(by: { $0.order < $1.order })?.job.studyInstanceUID
            else { return nil }
            jobsByStudy[k]!.job.state = .processing
            jobsByStudy[k]!.job.attempts += 1
            jobsByStudy[k]!.job.updatedAt = now
            jobsByStudy[k]!.rerun = false
            jobsByStudy[k]!.retryAt = nil
            return jobsByStudy[k]!.job
        }
    }

    func job(studyInstanceUID: String) throws -> StudyJob? { locked { jobsByStudy[studyInstanceUID]?.job } }
    func instances(studyInstanceUID: String) throws -> [StoredInstance] {
        locked { instancesBySOP.values.filter { $0.studyInstanceUID == studyInstanceUID }.sorted { $0.sopInstanceUID < $1.sopInstanceUID } }
    }

    func priorAnalysis(studyInstanceUID: String) throws -> PriorReference? {
        locked {
            guard let me = jobsByStudy[studyInstanceUID], let d = me.studyDate else { return nil }
            let earlier = jobsByStudy.values.filter { $0.patientID == me.patientID && ($0.studyDate ?? "") < d && $0.studyDate != nil
                && !(analysesByStudy[$0.job.studyInstanceUID] ?? []).filter { $0.notScored == nil }.isEmpty }
            guard let p = earlier.max(by: { ($0.studyDate ?? "") < ($1.studyDate ?? "") }),
                  let a = analysesByStudy[p.job.studyInstanceUID]?.filter({ $0.notScored == nil }).max(by: { $0.version < $1.version })
            else { return nil }
            return Trend.prior(from: a)
        }
    }

    func scoreHistory(patientID: String, issuerOfPatientID: String?) throws -> [(study: String, order: ExamOrder, point: ScorePoint)] {
        locked {
            analysesByStudy.compactMap { k, v in
                guard let a = v.filter({ $0.notScored == nil }).max(by: { $0.version < $1.version }), a.patientID == patientID,
                      let d = a.studyDate else { return nil }
                return (k, Self.order(k, date: d), ScorePoint(studyDate: d, global: a.score.global))
            }
        }
    }

    static func order(_ study: String, date: String?) -> ExamOrder {
        ExamOrder(studyDate: date, studyTime: nil, acquisitionDateTimes: [], studyInstanceUID: study)
    }

    func examOrder(studyInstanceUID: String) throws -> ExamOrder? {
        locked { jobsByStudy[studyInstanceUID].map { Self.order(studyInstanceUID, date: $0.studyDate) } }
    }

    func issuedReport(studyInstanceUID: String) throws -> IssuedReport? {
        locked {
            guard let a = analysesByStudy[studyInstanceUID]?.max(by: { $0.version < $1.version }) else { return nil }
            let outs = (outputsByStudy[studyInstanceUID] ?? []).filter { $0.fileName.contains("_v\(a.version).") }
            return IssuedReport(version: a.version, priorKnown: true, priorStudyInstanceUID: a.prior?.studyInstanceUID, outputs: outs)
        }
    }

    func analyses(studyInstanceUID: String) throws -> [StudyAnalysis] {
        locked { (analysesByStudy[studyInstanceUID] ?? []).sorted { $0.version < $1.version } }
    }
    func analysisVersions(studyInstanceUID: String) throws -> [Int] { try analyses(studyInstanceUID: studyInstanceUID).map(\.version) }
    func nextAnalysisVersion(studyInstanceUID: String) throws -> Int {
        locked { (analysesByStudy[studyInstanceUID]?.map(\.version).max() ?? 0) + 1 }
    }

    func commit(_ a: StudyAnalysis, outputs: [PublishedOutput], at: Date) throws {
        try locked {
            if let e = failCommit { throw e }
            guard jobsByStudy[a.studyInstanceUID]?.job.state == .processing else { throw ConfigError("commit: job not processing") }
            precondition(!(analysesByStudy[a.studyInstanceUID] ?? []).contains { $0.version == a.version }, "duplicate analysis version")
            analysesByStudy[a.studyInstanceUID, default: []].append(a)
            outputsByStudy[a.studyInstanceUID, default: []] += outputs
            let rerun = jobsByStudy[a.studyInstanceUID]!.rerun
            jobsByStudy[a.studyInstanceUID]!.job.state = rerun ? .queued : .done
            jobsByStudy[a.studyInstanceUID]!.job.lastError = nil
            jobsByStudy[a.studyInstanceUID]!.job.updatedAt = at
        }
    }

    /// Same contract as the store: back to queued after a back-off (retryDelay 60 s) while attempts
    /// remain (maxAttempts), else failed.
    var maxAttempts = 3
    var retryDelay: TimeInterval = 60
    func markFailed(studyInstanceUID: String, error: String, at: Date) throws -> StudyJob? {
        locked {
            guard var j = jobsByStudy[studyInstanceUID] else { return nil }
            j.job.lastError = error; j.job.updatedAt = at
            if j.job.attempts < maxAttempts { j.job.state = .queued; j.retryAt = at.addingTimeInterval(retryDelay) }
            else { j.job.state = .failed }
            jobsByStudy[studyInstanceUID] = j
            return j.job
        }
    }

    func markQuarantined(studyInstanceUID: String, reason: String, at: Date) throws {
        locked {
            jobsByStudy[studyInstanceUID]?.job.state = .quarantined
            jobsByStudy[studyInstanceUID]?.job.lastError = reason
        }
    }

    var maxCrashes = 3
    func requeueInterrupted(at: Date) throws -> [StudyJob] {
        locked {
            var out: [StudyJob] = []
            for (k, var j) in jobsByStudy where j.job.state == .processing {
                j.crashes += 1
                j.job.lastError = "worker stopped during attempt \(j.job.attempts)"
                j.job.state = j.crashes >= maxCrashes ? .quarantined : (j.job.attempts >= maxAttempts ? .failed : .queued)
                if j.job.state == .quarantined { j.job.lastError = "poison: the worker stopped \(j.crashes) times" }
                jobsByStudy[k] = j; out.append(j.job)
            }
            return out
        }
    }

    func history(studyInstanceUID: String) throws -> [String] { [] }
    private(set) var quarantinedFiles: [(String, String)] = []
    func recordQuarantinedFile(_ relativePath: String, reason: String, at: Date) throws {
        locked { quarantinedFiles.append((relativePath, reason)) }
    }
}
