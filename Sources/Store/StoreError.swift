import BrixiaDomain
import Foundation

/// Every failure the store reports. Messages name the file, study or patient concerned.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case databaseNotFound(path: String)
    /// The database was migrated by a newer brixia: it has migrations this binary does not know.
    case schemaTooNew(path: String, unknownMigrations: [String])
    case invalidInput(field: String, reason: String)
    /// Incoming data contradicts what is stored (e.g. a study UID already filed under another patient).
    case conflict(String)
    case unknownPatient(patientID: String, issuer: String?)
    case ambiguousPatient(patientID: String, issuers: [String])
    case unknownStudy(String)
    case unknownJob(Int64)
    case illegalTransition(study: String, from: JobState, to: JobState)
    /// The caller no longer owns the job (it was recovered and re-queued or taken by another worker).
    case leaseLost(study: String, owner: String)
    case invalidRule(String)
    /// The database file cannot be opened or migrated (not a database, no permission, read-only
    /// folder, disk full): names the file, SQLite's code and what it means.
    case cannotOpen(path: String, detail: String)
    /// A report was queued before under this SOP Instance UID with a different content: corrected reports
    /// must get new UIDs (PACS such as Orthanc silently keep the first copy).
    case sopInstanceReused(sopInstanceUID: String, path: String)
    /// An outgoing item is not in the state the change needs (e.g. marking sent an item an operator re-queued).
    case outgoingTransition(id: Int64, from: String, to: String)
    /// An explanation job is not in a state the change is allowed from.
    case explanationTransition(id: Int64, from: String, to: String)
    /// A row holds a value this program does not know (a newer brixia's, or a hand edit).
    case corruptRow(table: String, id: Int64, reason: String)

    public var description: String {
        switch self {
        case .databaseNotFound(let path):
            return "database not found: \(path) (no such file; point --db, --config or --work-dir at the pipeline's database)"
        case .schemaTooNew(let path, let unknown):
            return "database \(path) was written by a newer brixia (unknown migrations: \(unknown.joined(separator: ", ")))"
        case .invalidInput(let field, let reason):
            return "invalid \(field): \(reason)"
        case .conflict(let message):
            return "conflict: \(message)"
        case .unknownPatient(let id, let issuer):
            if let issuer { return "unknown patient: \(id) (issuer \(issuer.isEmpty ? "<none>" : issuer))" }
            return "unknown patient: \(id)"
        case .ambiguousPatient(let id, let issuers):
            let list = issuers.map { $0.isEmpty ? "<none>" : $0 }.joined(separator: ", ")
            return "patient ID \(id) exists under several issuers (\(list)); pass --issuer"
        case .unknownStudy(let uid):
            return "unknown study: \(uid)"
        case .unknownJob(let id):
            return "unknown job: \(id)"
        case .illegalTransition(let study, let from, let to):
            return "illegal job transition for study \(study): \(from.rawValue) -> \(to.rawValue)"
        case .leaseLost(let study, let owner):
            return "worker \(owner) no longer owns the job of study \(study)"
        case .cannotOpen(let path, let detail):
            return "cannot open database \(path): \(detail)"
        case .sopInstanceReused(let uid, let p):
            return "\(p): SOP Instance UID \(uid) was already queued with a different content; a changed report needs a new SOP Instance UID"
        case .outgoingTransition(let id, let from, let to):
            return "outgoing item \(id) cannot go from \(from) to \(to) (it changed meanwhile)"
        case .explanationTransition(let id, let from, let to):
            return "explanation job \(id) cannot go from \(from) to \(to)"
        case .corruptRow(let table, let id, let reason):
            return "\(table) row \(id): \(reason)"
        case .invalidRule(let spec):
            return "invalid alert rule '\(spec)' (expected global>=N, rise>=N or zone-rise>=N)"
        }
    }
}
