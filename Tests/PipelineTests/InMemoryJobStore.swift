import Foundation
@testable import Pipeline

/// Test double of the persisted state machine, following the JobStore contract.
final class InMemoryJobStore: JobStore, @unchecked Sendable {
    private let lock = NSLock()
    private var instancesBySOP: [String: StoredInstance] = [:]
    private var jobsByStudy: [String: StudyJob] = [:]
    private var analysesByStudy: [String: [AnalysisRecord]] = [:]
    private var claimOrder: [String: Int] = [:]
    private var counter = 0
    var failCommit: Error?

    private func locked<T>(_ f: () throws -> T) rethrows -> T { lock.lock(); defer { lock.unlock() }; return try f() }

    func instance(sopInstanceUID: String) throws -> StoredInstance? { locked { instancesBySOP[sopInstanceUID] } }

    func recordArrival(_ m: InstanceMetadata, contentHash: String, path: String, at: Date) throws {
        locked {
            instancesBySOP[m.sopInstanceUID] = StoredInstance(sopInstanceUID: m.sopInstanceUID, studyInstanceUID: m.studyInstanceUID,
                                                              contentHash: contentHash, path: path, state: .pending, receivedAt: at)
            var job = jobsByStudy[m.studyInstanceUID] ?? StudyJob(
                studyInstanceUID: m.studyInstanceUID, patientID: m.patientID, issuerOfPatientID: m.issuerOfPatientID,
                studyDate: m.studyDate, state: .received, attempts: 0, lastInstanceAt: at, retryAt: nil, lastError: nil)
            switch job.state {
            case .done, .failed, .quarantined: job.state = .received; job.attempts = 0
            default: break
            }
            job.lastInstanceAt = at
            counter += 1; claimOrder[m.studyInstanceUID] = counter
            jobsByStudy[m.studyInstanceUID] = job
        }
    }

    func promote(quietBefore: Date, now: Date, includeAllFailed: Bool) throws -> [String] {
        locked {
            var out: [String] = []
            for (k, var j) in jobsByStudy {
                if (j.state == .received && j.lastInstanceAt <= quietBefore)
                    || (j.state == .failed && (includeAllFailed || (j.retryAt ?? .distantPast) <= now)) {
                    j.state = .queued; jobsByStudy[k] = j; out.append(k)
                }
            }
            return out
        }
    }

    func claimNext() throws -> StudyJob? {
        locked {
            guard let k = jobsByStudy.values.filter({ $0.state == .queued })
                .min(by: { (claimOrder[$0.studyInstanceUID] ?? 0) < (claimOrder[$1.studyInstanceUID] ?? 0) })?.studyInstanceUID
            else { return nil }
            jobsByStudy[k]!.state = .processing
            jobsByStudy[k]!.attempts += 1
            return jobsByStudy[k]
        }
    }

    func job(studyInstanceUID: String) throws -> StudyJob? { locked { jobsByStudy[studyInstanceUID] } }
    func jobs() throws -> [StudyJob] { locked { Array(jobsByStudy.values) } }
    func instances(studyInstanceUID: String) throws -> [StoredInstance] {
        locked { instancesBySOP.values.filter { $0.studyInstanceUID == studyInstanceUID }.sorted { $0.sopInstanceUID < $1.sopInstanceUID } }
    }
    func instancesAwaitingDisposal() throws -> [StoredInstance] { locked { instancesBySOP.values.filter { $0.state == .analysed } } }

    func priorAnalysis(patientID: String, issuerOfPatientID: String?, before studyDate: String?, excludingStudy: String) throws -> AnalysisRecord? {
        locked {
            guard let d = studyDate else { return nil }
            let latest = analysesByStudy.compactMap { k, v -> AnalysisRecord? in
                guard k != excludingStudy else { return nil }
                return v.max { $0.version < $1.version }
            }
            return latest.filter { $0.patientID == patientID && $0.issuerOfPatientID == issuerOfPatientID && ($0.studyDate ?? "") < d && $0.studyDate != nil }
                .max { ($0.studyDate ?? "") < ($1.studyDate ?? "") }
        }
    }

    func analyses(studyInstanceUID: String) throws -> [AnalysisRecord] { locked { analysesByStudy[studyInstanceUID] ?? [] } }
    func nextAnalysisVersion(studyInstanceUID: String) throws -> Int {
        locked { (analysesByStudy[studyInstanceUID]?.map(\.version).max() ?? 0) + 1 }
    }

    func commit(_ a: AnalysisRecord, at: Date) throws {
        try locked {
            if let e = failCommit { throw e }
            if !(analysesByStudy[a.studyInstanceUID] ?? []).contains(where: { $0.version == a.version }) {
                analysesByStudy[a.studyInstanceUID, default: []].append(a)
            }
            let listed = Set(a.instanceUIDs)
            var reopen = false
            for (k, var i) in instancesBySOP where i.studyInstanceUID == a.studyInstanceUID && i.state == .pending {
                if listed.contains(k) { i.state = .analysed; instancesBySOP[k] = i } else { reopen = true }
            }
            jobsByStudy[a.studyInstanceUID]?.state = reopen ? .received : .done
            jobsByStudy[a.studyInstanceUID]?.lastError = nil
        }
    }

    func markFailed(studyInstanceUID: String, error: String, retryAt: Date) throws {
        locked {
            jobsByStudy[studyInstanceUID]?.state = .failed
            jobsByStudy[studyInstanceUID]?.lastError = error
            jobsByStudy[studyInstanceUID]?.retryAt = retryAt
        }
    }

    func markQuarantined(studyInstanceUID: String, reason: String) throws {
        locked {
            jobsByStudy[studyInstanceUID]?.state = .quarantined
            jobsByStudy[studyInstanceUID]?.lastError = reason
        }
    }

    func markDisposed(sopInstanceUID: String, newPath: String?) throws {
        locked {
            instancesBySOP[sopInstanceUID]?.state = .disposed
            instancesBySOP[sopInstanceUID]?.path = newPath
        }
    }

    func requeueInterrupted() throws -> [String] {
        locked {
            var out: [String] = []
            for (k, j) in jobsByStudy where j.state == .processing { jobsByStudy[k]!.state = .queued; out.append(k) }
            return out
        }
    }
}
