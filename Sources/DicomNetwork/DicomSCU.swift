import CDcmBridge
import Foundation

/// Outcome of one file in a C-STORE.
public struct StoreOutcome: Sendable, Equatable {
    public var path: String
    public var sopInstanceUID: String
    /// DIMSE status of the response (0 = success); meaningful when `sent`.
    public var status: UInt16
    public var sent: Bool
    /// nil when stored; otherwise the typed reason.
    public var error: DicomNetworkError?
    public var stored: Bool { error == nil }
}

/// C-ECHO and C-STORE service class user (DCMTK DcmSCU / DcmStorageSCU underneath).
public struct DicomSCU: Sendable {
    public var callingAETitle: String
    /// Connect, ACSE and DIMSE timeout.
    public var timeoutSeconds: Int

    public init(callingAETitle: String = "BRIXIA", timeoutSeconds: Int = 30) throws {
        try DicomNode.validateAETitle(callingAETitle)
        self.callingAETitle = callingAETitle
        self.timeoutSeconds = timeoutSeconds
    }

    /// Verifies the peer with a C-ECHO; throws a typed error naming the peer and the reason.
    public func echo(_ node: DicomNode) throws {
        var err = [CChar](repeating: 0, count: 1024)
        let rc = withPeer(node) { peer in dcmbn_echo(peer, &err, err.count) }
        if rc != Int32(DCMBN_OK.rawValue) { throw Self.error(code: rc, status: 0, message: String(cString: err)) }
    }

    /// Sends `paths` over one association. Returns one outcome per file, in order; throws only when
    /// nothing could be attempted (connection refused, association rejected, no readable file).
    public func store(_ paths: [String], to node: DicomNode) throws -> [StoreOutcome] {
        guard !paths.isEmpty else { return [] }
        var results = [dcmbn_store_result](repeating: dcmbn_store_result(), count: paths.count)
        var err = [CChar](repeating: 0, count: 1024)
        let cPaths = paths.map { strdup($0) }
        defer { cPaths.forEach { free($0) } }
        let rc = withPeer(node) { peer in
            cPaths.map { UnsafePointer($0) }.withUnsafeBufferPointer { buf in
                dcmbn_store(peer, buf.baseAddress, paths.count, &results, &err, err.count)
            }
        }
        let message = String(cString: err)
        if rc == Int32(DCMBN_ERR_CONNECT.rawValue) || rc == Int32(DCMBN_ERR_REJECTED.rawValue) || rc == Int32(DCMBN_ERR_INTERNAL.rawValue) {
            throw Self.error(code: rc, status: 0, message: message)
        }
        return zip(paths, results).map { path, r in
            var r = r
            let uid = withUnsafeBytes(of: &r.sop_instance_uid) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let msg = withUnsafeBytes(of: &r.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let error: DicomNetworkError? = r.code == Int32(DCMBN_OK.rawValue) ? nil
                : (r.code == Int32(DCMBN_ERR_BAD_FILE.rawValue) ? .badFile(path: path, reason: msg)
                   : Self.error(code: r.code, status: r.status, message: "\(path) -> \(node): \(msg)"))
            return StoreOutcome(path: path, sopInstanceUID: uid, status: r.status, sent: r.sent != 0, error: error)
        }
    }

    private func withPeer<T>(_ node: DicomNode, _ body: (UnsafePointer<dcmbn_peer>) -> T) -> T {
        callingAETitle.withCString { calling in
            node.aeTitle.withCString { called in
                node.host.withCString { host in
                    var peer = dcmbn_peer(calling_aet: calling, called_aet: called, host: host, port: node.port,
                                          timeout_s: Int32(clamping: timeoutSeconds))
                    return body(&peer)
                }
            }
        }
    }

    static func error(code: Int32, status: UInt16, message: String) -> DicomNetworkError {
        switch UInt32(bitPattern: code) {
        case DCMBN_ERR_CONNECT.rawValue: return .connectionFailed(message)
        case DCMBN_ERR_REJECTED.rawValue: return .associationRejected(message)
        case DCMBN_ERR_NO_CONTEXT.rawValue: return .noPresentationContext(message)
        case DCMBN_ERR_DIMSE_STATUS.rawValue: return .dimseFailure(status: status, message: message)
        case DCMBN_ERR_BAD_FILE.rawValue: return .badFile(path: "", reason: message)
        case DCMBN_ERR_NETWORK.rawValue: return .network(message)
        default: return .internalError(message)
        }
    }
}
