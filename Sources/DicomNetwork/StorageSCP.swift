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
    /// "" or "0.0.0.0": all interfaces. "127.0.0.1": loopback peers only. DCMTK 3.6.7 cannot bind one address.
    public var bindAddress: String
    /// Received instances land in `<inbox>/<StudyInstanceUID>/<SOPInstanceUID>.dcm` (staging in `<inbox>/.staging`).
    public var inbox: String
    /// Calling AE titles allowed to associate; empty = any.
    public var allowedCallingAETitles: [String]
    public var sopClasses: [String]
    public var maxAssociations: Int
    public var timeoutSeconds: Int

    public init(aeTitle: String, port: UInt16, inbox: String, bindAddress: String = "",
                allowedCallingAETitles: [String] = [], sopClasses: [String] = StorageSOPClass.defaults,
                maxAssociations: Int = 8, timeoutSeconds: Int = 30) {
        self.aeTitle = aeTitle
        self.port = port
        self.bindAddress = bindAddress
        self.inbox = inbox
        self.allowedCallingAETitles = allowedCallingAETitles
        self.sopClasses = sopClasses
        self.maxAssociations = maxAssociations
        self.timeoutSeconds = timeoutSeconds
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
/// One thread per association (DCMTK DcmBaseSCPPool), up to `maxAssociations` at once.
public final class StorageSCP: @unchecked Sendable {
    public let config: StorageSCPConfig
    private var handle: OpaquePointer?
    private let lock = NSLock()

    public init(config: StorageSCPConfig) throws {
        try DicomNode.validateAETitle(config.aeTitle)
        for ae in config.allowedCallingAETitles { try DicomNode.validateAETitle(ae) }
        guard config.port > 0 else { throw DicomNetworkError.scpStart("port must be 1-65535") }
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
                        sop_classes: s.baseAddress, sop_class_count: s.count,
                        max_associations: Int32(clamping: config.maxAssociations),
                        timeout_s: Int32(clamping: config.timeoutSeconds))
                    return dcmbn_scp_start(&cfg, &err, err.count)
                }
            }
            guard let h else { throw DicomNetworkError.scpStart(String(cString: err)) }
            handle = h
        }
    }

    /// Stops accepting, lets running associations finish (bounded by the timeout), then returns.
    public func stop() {
        let h: OpaquePointer? = lock.withLock { let h = handle; handle = nil; return h }
        if let h { dcmbn_scp_stop(h) }
    }

    public var stats: StorageSCPStats {
        lock.withLock {
            var s = dcmbn_scp_stats()
            if let handle { dcmbn_scp_get_stats(handle, &s) }
            return StorageSCPStats(stored: s.stored, failed: s.failed, rejectedAssociations: s.rejected)
        }
    }

    deinit { stop() }
}
