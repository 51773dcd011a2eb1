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

extension NetworkSettings {
    /// The refusal when the SCP would accept anyone: says exactly what to add to the config.
    static let noAllowListMessage = """
        scpPort is set but scpAllowedCallingAETitles is empty: the storage SCP would accept any calling AE title. \
        Add the AE titles of the PACS/modalities that send to Brixia, e.g. `scp_allowed_calling_ae_titles = PACS, MODALITY1` \
        (JSON: "scpAllowedCallingAETitles": ["PACS", "MODALITY1"]), or, to accept any caller on a trusted network, \
        `scp_allow_any_caller = true` (JSON: "scpAllowAnyCaller": true)
        """

    /// Keys of the table's network section that only make sense with a storage SCP.
    static let scpOnlyKeys = ["scpAETitle", "scpBindAddress", "scpAllowedCallingAETitles", "scpAllowAnyCaller", "scpMaxAssociations"]

    static func resolve(_ f: ConfigSources, inbox: URL) throws -> NetworkSettings {
        var n = NetworkSettings()
        func check(_ body: () throws -> Void) throws {
            do { try body() } catch let e as DicomNetworkError { throw ConfigError("\(e)") }
        }
        if let port = f.integer("scpPort") {
            let ae = f.text("scpAETitle")!
            let allowed = f.list("scpAllowedCallingAETitles") ?? []
            try check {
                try DicomNode.validateAETitle(ae)
                for a in allowed { try DicomNode.validateAETitle(a) }
            }
            let anyCaller = f.bool("scpAllowAnyCaller")!
            guard !allowed.isEmpty || anyCaller else { throw ConfigError(noAllowListMessage) }
            let bind = f.text("scpBindAddress") ?? ""
            guard (try? StorageSCPConfig.validateBindAddress(bind)) != nil else {
                throw ConfigError("scpBindAddress '\(bind)' is not a numeric IPv4 or IPv6 address: use 127.0.0.1 (loopback only), 0.0.0.0 (all IPv4 interfaces), ::1, or one local address of this host")
            }
            var scp = StorageSCPConfig(aeTitle: ae, port: UInt16(port), inbox: inbox.path, bindAddress: bind,
                                       allowedCallingAETitles: allowed, allowAnyCaller: anyCaller)
            scp.maxAssociations = f.integer("scpMaxAssociations")!
            n.scp = scp
        } else {
            let given = f.setKeys(scpOnlyKeys)
            if !given.isEmpty {
                throw ConfigError("\(given.joined(separator: ", ")) given but no scpPort: set scpPort to enable the storage SCP")
            }
        }
        for text in f.list("destinations") ?? [] {
            var node: DicomNode?
            try check { node = try DicomNode(parsing: text) }
            if let node, !n.destinations.contains(node) { n.destinations.append(node) }
        }
        n.callingAETitle = f.text("sendAETitle") ?? n.scp?.aeTitle ?? f.text("scpAETitle")!
        try check { try DicomNode.validateAETitle(n.callingAETitle) }
        n.sendTimeoutSeconds = f.integer("sendTimeoutSeconds")!
        n.retry.baseDelay = f.number("sendInitialBackoffSeconds")!
        n.retry.maxDelay = f.number("sendMaxBackoffSeconds")!
        guard n.retry.maxDelay >= n.retry.baseDelay else {
            throw ConfigError("sendMaxBackoffSeconds (\(n.retry.maxDelay)) must be >= sendInitialBackoffSeconds (\(n.retry.baseDelay))")
        }
        n.retry.giveUpAfter = f.number("sendRetryWindowSeconds")!
        return n
    }
}
