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
        }
    }
}
