import DicomNetwork
import Foundation

/// The web console / HTTP API of `brixia serve` (off unless `httpPort` is set). The server itself lives in
/// the HTTPConsole module; the daemon only carries these settings.
public struct HTTPSettings: Sendable, Equatable {
    public var port: Int
    /// Numeric address to listen on; loopback unless the operator opens it up (behind a TLS proxy).
    public var address: String
    /// Users with roles and salted password hashes (`brixia user add`); required: no patient data without login.
    public var usersFile: URL
    /// Marks the session cookie Secure: set when browsers reach the console over HTTPS (a TLS reverse proxy).
    public var secureCookies: Bool

    public init(port: Int, address: String = "127.0.0.1", usersFile: URL, secureCookies: Bool = false) {
        self.port = port; self.address = address; self.usersFile = usersFile; self.secureCookies = secureCookies
    }
}

extension HTTPSettings {
    /// nil when the console is off. A relative users file is relative to the config file's folder.
    static func resolve(_ f: ConfigSources, workDir: URL) throws -> HTTPSettings? {
        guard let port = f.integer("httpPort") else {
            let given = f.setKeys(["httpAddress", "httpUsersFile", "httpSecureCookies"])
            if !given.isEmpty {
                throw ConfigError("\(given.joined(separator: ", ")) given but no httpPort: set httpPort to enable the web console")
            }
            return nil
        }
        let address = f.text("httpAddress")!
        guard !address.isEmpty, (try? StorageSCPConfig.validateBindAddress(address)) != nil else {
            throw ConfigError("httpAddress '\(address)' is not a numeric IPv4 or IPv6 address: use 127.0.0.1 (loopback only, the default; put a TLS reverse proxy in front), ::1, or one local address of this host")
        }
        let users = f.text("httpUsersFile")?.isEmpty == false ? f.path("httpUsersFile")! : workDir.appendingPathComponent("console-users.json")
        return HTTPSettings(port: port, address: address, usersFile: users.standardizedFileURL,
                            secureCookies: f.bool("httpSecureCookies")!)
    }
}
