import Foundation

/// A DICOM application entity on the network: AE title, host and port ("AE@HOST:PORT").
public struct DicomNode: Hashable, Sendable, CustomStringConvertible {
    public var aeTitle: String
    public var host: String
    public var port: UInt16

    public init(aeTitle: String, host: String, port: UInt16) throws {
        try DicomNode.validateAETitle(aeTitle)
        guard !host.isEmpty else { throw DicomNetworkError.invalidNode("empty host") }
        guard port > 0 else { throw DicomNetworkError.invalidNode("port must be 1-65535") }
        self.aeTitle = aeTitle
        self.host = host
        self.port = port
    }

    /// Parses "AE@HOST:PORT" (the form used on the command line and in the queue).
    public init(parsing text: String) throws {
        guard let at = text.firstIndex(of: "@"), let colon = text.lastIndex(of: ":"), at < colon else {
            throw DicomNetworkError.invalidNode("'\(text)' is not AE@HOST:PORT")
        }
        let ae = String(text[..<at])
        let host = String(text[text.index(after: at)..<colon])
        guard let port = UInt16(text[text.index(after: colon)...]), port > 0 else {
            throw DicomNetworkError.invalidNode("'\(text)': port must be 1-65535")
        }
        try self.init(aeTitle: ae, host: host, port: port)
    }

    public var description: String { "\(aeTitle)@\(host):\(port)" }

    /// AE titles: 1-16 characters of the default repertoire, no backslash or control characters.
    public static func validateAETitle(_ ae: String) throws {
        let trimmed = ae.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, ae.utf8.count <= 16,
              ae.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F && $0 != "\\" }) else {
            throw DicomNetworkError.invalidNode("invalid AE title '\(ae)' (1-16 printable ASCII characters, no backslash)")
        }
    }
}
