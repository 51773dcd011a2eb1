import DicomNetwork
import Foundation
import Store

/// DICOM networking of the daemon: the storage SCP feeding the inbox (off unless `scpPort` is set) and the
/// destinations every finished study's SR and SC are queued for (none unless `destinations` is set).
public struct NetworkSettings: Sendable, Equatable {
    /// nil: no storage SCP.
    public var scp: StorageSCPConfig?
    /// PACS that receive the reports, in configuration order, without duplicates.
    public var destinations: [DicomNode] = []
    /// Our calling AE title for C-STORE (default: the SCP's AE title, else BRIXIA).
    public var callingAETitle = "BRIXIA"
    public var sendTimeoutSeconds = 30
    public var retry = OutgoingRetryPolicy()
    /// How often the sender looks for due queue items.
    public var sendPollInterval: TimeInterval = 1

    public init() {}
}

/// The networking keys of the config file (JSON names; `key = value` files use the snake_case aliases).
struct NetworkConfigFile: Decodable, Equatable {
    var scpAETitle: String?
    var scpPort: Int?
    var scpBindAddress: String?
    var scpAllowedCallingAETitles: [String]?
    var scpAllowAnyCaller: Bool?
    var scpMaxAssociations: Int?
    var destinations: [String]?
    var sendAETitle: String?
    var sendTimeoutSeconds: Int?
    var sendInitialBackoffSeconds: Double?
    var sendMaxBackoffSeconds: Double?
    var sendRetryWindowSeconds: Double?
}

extension NetworkSettings {
    static let fileKeys: Set<String> = [
        "scpAETitle", "scpPort", "scpBindAddress", "scpAllowedCallingAETitles", "scpAllowAnyCaller", "scpMaxAssociations",
        "destinations", "sendAETitle", "sendTimeoutSeconds", "sendInitialBackoffSeconds", "sendMaxBackoffSeconds", "sendRetryWindowSeconds",
    ]
    static let keyAliases: [String: String] = [
        "scp_ae_title": "scpAETitle", "scp_port": "scpPort", "scp_bind_address": "scpBindAddress",
        "scp_allowed_calling_ae_titles": "scpAllowedCallingAETitles", "scp_allowed_callers": "scpAllowedCallingAETitles",
        "scp_allow_any_caller": "scpAllowAnyCaller",
        "scp_max_associations": "scpMaxAssociations", "destination": "destinations",
        "send_ae_title": "sendAETitle", "send_timeout": "sendTimeoutSeconds", "send_timeout_seconds": "sendTimeoutSeconds",
        "send_initial_backoff": "sendInitialBackoffSeconds", "send_initial_backoff_seconds": "sendInitialBackoffSeconds",
        "send_max_backoff": "sendMaxBackoffSeconds", "send_max_backoff_seconds": "sendMaxBackoffSeconds",
        "send_retry_window": "sendRetryWindowSeconds", "send_retry_window_seconds": "sendRetryWindowSeconds",
    ]
    static let numberKeys: Set<String> = ["sendInitialBackoffSeconds", "sendMaxBackoffSeconds", "sendRetryWindowSeconds"]
    static let intKeys: Set<String> = ["scpPort", "scpMaxAssociations", "sendTimeoutSeconds"]
    static let listKeys: Set<String> = ["scpAllowedCallingAETitles", "destinations"]
    static let boolKeys: Set<String> = ["scpAllowAnyCaller"]

    /// The refusal when the SCP would accept anyone: says exactly what to add to the config.
    static let noAllowListMessage = """
        scpPort is set but scpAllowedCallingAETitles is empty: the storage SCP would accept any calling AE title. \
        Add the AE titles of the PACS/modalities that send to Brixia, e.g. `scp_allowed_calling_ae_titles = PACS, MODALITY1` \
        (JSON: "scpAllowedCallingAETitles": ["PACS", "MODALITY1"]), or, to accept any caller on a trusted network, \
        `scp_allow_any_caller = true` (JSON: "scpAllowAnyCaller": true)
        """

    static func resolve(_ f: NetworkConfigFile, inbox: URL) throws -> NetworkSettings {
        var n = NetworkSettings()
        func check(_ body: () throws -> Void) throws {
            do { try body() } catch let e as DicomNetworkError { throw ConfigError("\(e)") }
        }
        if let port = f.scpPort {
            guard (1...65535).contains(port) else { throw ConfigError("scpPort must be 1-65535, got \(port)") }
            let ae = f.scpAETitle ?? "BRIXIA"
            let allowed = (f.scpAllowedCallingAETitles ?? []).map(\.trimmed).filter { !$0.isEmpty }
            try check {
                try DicomNode.validateAETitle(ae)
                for a in allowed { try DicomNode.validateAETitle(a) }
            }
            let anyCaller = f.scpAllowAnyCaller ?? false
            guard !allowed.isEmpty || anyCaller else { throw ConfigError(noAllowListMessage) }
            let bind = f.scpBindAddress?.trimmed ?? ""
            guard (try? StorageSCPConfig.validateBindAddress(bind)) != nil else {
                throw ConfigError("scpBindAddress '\(bind)' is not a numeric IPv4 or IPv6 address: use 127.0.0.1 (loopback only), 0.0.0.0 (all IPv4 interfaces), ::1, or one local address of this host")
            }
            var scp = StorageSCPConfig(aeTitle: ae, port: UInt16(port), inbox: inbox.path, bindAddress: bind,
                                       allowedCallingAETitles: allowed, allowAnyCaller: anyCaller)
            if let m = f.scpMaxAssociations {
                guard (1...StorageSCPConfig.maxAssociationsLimit).contains(m) else {
                    throw ConfigError("scpMaxAssociations must be 1-\(StorageSCPConfig.maxAssociationsLimit), got \(m)")
                }
                scp.maxAssociations = m
            }
            n.scp = scp
        } else {
            let given = [("scpAETitle", f.scpAETitle != nil), ("scpBindAddress", f.scpBindAddress != nil),
                         ("scpAllowedCallingAETitles", f.scpAllowedCallingAETitles != nil),
                         ("scpAllowAnyCaller", f.scpAllowAnyCaller != nil),
                         ("scpMaxAssociations", f.scpMaxAssociations != nil)].filter(\.1).map(\.0)
            if !given.isEmpty {
                throw ConfigError("\(given.joined(separator: ", ")) given but no scpPort: set scpPort to enable the storage SCP")
            }
        }
        for text in (f.destinations ?? []).map(\.trimmed) where !text.isEmpty {
            var node: DicomNode?
            try check { node = try DicomNode(parsing: text) }
            if let node, !n.destinations.contains(node) { n.destinations.append(node) }
        }
        n.callingAETitle = f.sendAETitle ?? n.scp?.aeTitle ?? "BRIXIA"
        try check { try DicomNode.validateAETitle(n.callingAETitle) }
        if let t = f.sendTimeoutSeconds {
            guard t >= 1 else { throw ConfigError("sendTimeoutSeconds must be >= 1, got \(t)") }
            n.sendTimeoutSeconds = t
        }
        if let v = f.sendInitialBackoffSeconds {
            guard v > 0 else { throw ConfigError("sendInitialBackoffSeconds must be > 0, got \(v)") }
            n.retry.baseDelay = v
        }
        if let v = f.sendMaxBackoffSeconds { n.retry.maxDelay = v }
        guard n.retry.maxDelay >= n.retry.baseDelay else {
            throw ConfigError("sendMaxBackoffSeconds (\(n.retry.maxDelay)) must be >= sendInitialBackoffSeconds (\(n.retry.baseDelay))")
        }
        if let v = f.sendRetryWindowSeconds {
            guard v > 0 else { throw ConfigError("sendRetryWindowSeconds must be > 0, got \(v)") }
            n.retry.giveUpAfter = v
        }
        return n
    }
}
