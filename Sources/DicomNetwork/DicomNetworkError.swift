import Foundation

/// Errors of the DICOM network layer; each names the peer or file and the reason.
public enum DicomNetworkError: Error, Equatable, CustomStringConvertible {
    case invalidNode(String)
    /// TCP connection failed: refused, unreachable or timed out.
    case connectionFailed(String)
    /// The peer rejected the association (AE titles, policy).
    case associationRejected(String)
    /// The peer accepted the association but no presentation context for the object.
    case noPresentationContext(String)
    /// The peer answered with a DIMSE failure status.
    case dimseFailure(status: UInt16, message: String)
    case badFile(path: String, reason: String)
    /// Association aborted or timed out mid-transfer, or another protocol error.
    case network(String)
    case scpStart(String)
    case internalError(String)
    /// The queue refuses a different file content under a SOP Instance UID it has already seen:
    /// corrected reports must get new UIDs (PACS such as Orthanc silently keep the first copy).
    case sopInstanceReused(sopInstanceUID: String, path: String)
    case queue(String)
    /// A queue item was asked to change state from a state that does not allow it (e.g. marked sent while it
    /// is no longer pending because an operator re-queued or it was given up meanwhile).
    case queueTransition(id: Int64, from: String, to: String)

    public var description: String {
        switch self {
        case .invalidNode(let m): return "invalid DICOM node: \(m)"
        case .connectionFailed(let m): return m
        case .associationRejected(let m): return m
        case .noPresentationContext(let m): return m
        case .dimseFailure(let s, let m): return "\(m) (DIMSE status 0x\(String(format: "%04X", s)))"
        case .badFile(let p, let r): return "\(p): \(r)"
        case .network(let m): return m
        case .scpStart(let m): return "storage SCP: \(m)"
        case .internalError(let m): return "internal error: \(m)"
        case .sopInstanceReused(let uid, let p):
            return "\(p): SOP Instance UID \(uid) was already queued with different content; a corrected object needs a new SOP Instance UID"
        case .queue(let m): return "outgoing queue: \(m)"
        case .queueTransition(let id, let from, let to):
            return "outgoing queue: item \(id) is \(from); it cannot become \(to) (only a pending item can)"
        }
    }
}
