import DicomNetwork
import Foundation
import Store

/// What the console needs from the daemon's configuration (kept free of the Pipeline module: the
/// console depends on Store and DicomNetwork only).
public struct ConsoleConfig: Sendable {
    public var address: String
    public var port: Int
    public var usersFile: URL
    public var secureCookies: Bool
    /// PACS destinations reports are queued for (resend enqueues missing rows for them).
    public var destinations: [DicomNode]
    public var outgoingPolicy: OutgoingRetryPolicy

    public init(address: String, port: Int, usersFile: URL, secureCookies: Bool,
                destinations: [DicomNode] = [], outgoingPolicy: OutgoingRetryPolicy = OutgoingRetryPolicy()) {
        self.address = address; self.port = port; self.usersFile = usersFile; self.secureCookies = secureCookies
        self.destinations = destinations; self.outgoingPolicy = outgoingPolicy
    }
}

/// The label on every page and every JSON answer.
public enum Disclaimer {
    public static let text = "AI-generated, not verified by a physician, not for diagnostic use"
}
