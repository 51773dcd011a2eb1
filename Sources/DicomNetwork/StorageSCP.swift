import CDcmBridge
import Foundation

/// Well-known storage SOP classes the SCP accepts by default (CR, DX for presentation/processing, SC).
public enum StorageSOPClass {
    public static let computedRadiography = "1.2.840.10008.5.1.4.1.1.1"
    public static let digitalXRayForPresentation = "1.2.840.10008.5.1.4.1.1.1.1"
    public static let digitalXRayForProcessing = "1.2.840.10008.5.1.4.1.1.1.1.1"
    public static let secondaryCapture = "1.2.840.10008.5.1.4.1.1.7"
    public static let comprehensiveSR = "1.2.840.10008.5.1.4.1.1.88.33"
    public static let enhancedSR = "1.2.840.10008.5.1.4.1.1.88.22"
    public static let defaults = [computedRadiography, digitalXRayForPresentation, digitalXRayForProcessing, secondaryCapture]
}

/// Storage SCP configuration (the `scp` section of the daemon configuration).
public struct StorageSCPConfig: Sendable, Equatable {
    public var aeTitle: String
    public var port: UInt16
    /// The numeric IPv4 or IPv6 address to listen on: "" or "0.0.0.0" all IPv4 interfaces, "127.0.0.1" or "::1"
    /// loopback only, any other local address only that one.
    public var bindAddress: String
    /// Received instances land in `<inbox>/<StudyInstanceUID>/<SOPInstanceUID>.dcm` (staging in `<inbox>/.staging`).
    public var inbox: String
    /// Calling AE titles allowed to associate. Empty is refused unless `allowAnyCaller` (secure by default).
    public var allowedCallingAETitles: [String]
    /// Accept any calling AE title; must be said explicitly.
    public var allowAnyCaller: Bool
    public var sopClasses: [String]
    public var maxAssociations: Int
    public var timeoutSeconds: Int

    public init(aeTitle: String, port: UInt16, inbox: String, bindAddress: String = "",
                allowedCallingAETitles: [String] = [], allowAnyCaller: Bool = false,
                sopClasses: [String] = StorageSOPClass.defaults, maxAssociations: Int = 8, timeoutSeconds: Int = 30) {
        self.aeTitle = aeTitle
        self.port = port
        self.bindAddress = bindAddress
        self.inbox = inbox
        self.allowedCallingAETitles = allowedCallingAETitles
        self.allowAnyCaller = allowAnyCaller
        self.sopClasses = sopClasses
        self.maxAssociations = maxAssociations
        self.timeoutSeconds = timeoutSeconds
    }

    public static let maxAssociationsLimit = 64

    /// Checks that `address` is a numeric IPv4 or IPv6 address (or "" for 0.0.0.0). Host names are refused: what
    /// they resolve to can change, and the SCP must listen exactly where the operator said.
    public static func validateBindAddress(_ address: String) throws {
        if address.isEmpty { return }
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, address, &v4) == 1 || inet_pton(AF_INET6, address, &v6) == 1 { return }
        throw DicomNetworkError.scpStart("bind address '\(address)' is not a numeric IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0, ::1)")
    }
}

/// Counters since start.
public struct StorageSCPStats: Sendable, Equatable {
    public var stored: UInt64
    public var failed: UInt64
    public var rejectedAssociations: UInt64
}

/// DICOM storage SCP (C-STORE, C-ECHO) writing each instance atomically into the inbox:
/// temp file in `<inbox>/.staging`, fsync, rename into place. An aborted association leaves nothing in the inbox.
/// Listens only on `bindAddress`; up to `maxAssociations` associations at once (one listener thread each, so a
/// silent peer holds one thread for at most the timeout); refuses to start without an allow-list of calling AE
/// titles unless `allowAnyCaller`.
/// @unchecked Sendable: `handle` and `finalStats` are read and written only under `lock`; `config` is immutable.
public final class StorageSCP: @unchecked Sendable {
    public let config: StorageSCPConfig
    private var handle: OpaquePointer?
    /// Counters of the last run, kept after stop() (the handle and its live counters are gone by then).
    private var finalStats = dcmbn_scp_stats()
    private let lock = NSLock()

    public init(config: StorageSCPConfig) throws {
        try DicomNode.validateAETitle(config.aeTitle)
        for ae in config.allowedCallingAETitles { try DicomNode.validateAETitle(ae) }
        guard config.port > 0 else { throw DicomNetworkError.scpStart("port must be 1-65535") }
        guard !config.allowedCallingAETitles.isEmpty || config.allowAnyCaller else {
            throw DicomNetworkError.scpStart("no calling AE titles are allowed: list the AE titles of the peers that send to us, or allow any caller explicitly")
        }
        // One thread per association: bound it so a typo cannot ask for thousands of threads.
        guard (1...StorageSCPConfig.maxAssociationsLimit).contains(config.maxAssociations) else {
            throw DicomNetworkError.scpStart("maxAssociations must be 1-\(StorageSCPConfig.maxAssociationsLimit), got \(config.maxAssociations)")
        }
        try StorageSCPConfig.validateBindAddress(config.bindAddress)
        self.config = config
    }

    public var isRunning: Bool { lock.withLock { handle != nil } }

    /// Opens the port and starts accepting associations in background threads.
    public func start() throws {
        try lock.withLock {
            guard handle == nil else { return }
            do { try FileManager.default.createDirectory(atPath: config.inbox, withIntermediateDirectories: true) } catch {
                throw DicomNetworkError.scpStart("cannot create inbox \(config.inbox): \(error.localizedDescription)")
            }
            var err = [CChar](repeating: 0, count: 1024)
            let strings = [config.aeTitle, config.bindAddress, config.inbox] + config.allowedCallingAETitles + config.sopClasses
            let c = strings.map { strdup($0) }
            defer { c.forEach { free($0) } }
            let allowed = Array(c[3..<(3 + config.allowedCallingAETitles.count)]).map { UnsafePointer($0) }
            let classes = Array(c[(3 + config.allowedCallingAETitles.count)...]).map { UnsafePointer($0) }
            let h: OpaquePointer? = allowed.withUnsafeBufferPointer { a in
                classes.withUnsafeBufferPointer { s in
                    var cfg = dcmbn_scp_config(
                        ae_title: c[0], port: config.port, bind_address: c[1], inbox: c[2],
                        allowed_calling: a.baseAddress, allowed_count: a.count,
                        allow_any_caller: config.allowAnyCaller ? 1 : 0,
                        sop_classes: s.baseAddress, sop_class_count: s.count,
                        max_associations: Int32(clamping: config.maxAssociations),
                        timeout_s: Int32(clamping: config.timeoutSeconds))
                    return dcmbn_scp_start(&cfg, &err, err.count)
                }
            }
            guard let h else { throw DicomNetworkError.scpStart(String(cString: err)) }
            handle = h
            finalStats = dcmbn_scp_stats()
        }
    }

    /// Stops accepting, cuts peers that never sent an association request, lets running associations finish
    /// (bounded by the timeout), then returns. `stats` keeps the final counters.
    public func stop() {
        // Under the lock throughout: a concurrent stop() or `stats` waits for the final counters.
        lock.withLock {
            guard let h = handle else { return }
            var s = dcmbn_scp_stats()
            dcmbn_scp_stop(h, &s)
            finalStats = s
            handle = nil
        }
    }

    /// Counters since start: live while running, final after stop().
    public var stats: StorageSCPStats {
        lock.withLock {
            var s = finalStats
            if let handle { dcmbn_scp_get_stats(handle, &s) }
            return StorageSCPStats(stored: s.stored, failed: s.failed, rejectedAssociations: s.rejected)
        }
    }

    deinit { stop() }
}
