import Logging
import TextSafety

/// Every log line passes through here: control characters in the message or in metadata values
/// (DICOM values, file names, peer AE titles) are escaped, so a newline in a PatientID cannot forge
/// a log line and an ESC sequence cannot reach the operator's terminal.
struct SafeLogHandler: LogHandler {
    var inner: StreamLogHandler

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var e = event
        e.message = Logger.Message(stringLiteral: SafeText.escape(event.message.description))
        var metadata = event.metadata.map(Self.escape)
        if let error = event.error {
            // The stream handler prints an error as it describes itself: escaped here like any other outside text.
            var m = metadata ?? [:]
            m["error.message"] = .string(SafeText.escape("\(error)"))
            m["error.type"] = .string(SafeText.escape(String(reflecting: type(of: error))))
            metadata = m
            e.error = nil
        }
        e.metadata = metadata
        TerminalProgress.shared.suspend { inner.log(event: e) }
    }

    static func escape(_ m: Logger.Metadata) -> Logger.Metadata {
        m.mapValues(escape)
    }

    static func escape(_ v: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch v {
        case .string(let s): return .string(SafeText.escape(s))
        case .stringConvertible(let c): return .string(SafeText.escape(c.description))
        case .array(let a): return .array(a.map(escape))
        case .dictionary(let d): return .dictionary(d.mapValues(escape))
        }
    }
}
