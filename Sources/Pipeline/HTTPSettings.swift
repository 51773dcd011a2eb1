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

/// The HTTP keys of the config file (JSON names; `key = value` files use the snake_case aliases).
struct HTTPConfigFile: Decodable, Equatable {
    var httpPort: Int?
    var httpAddress: String?
    var httpUsersFile: String?
    var httpSecureCookies: Bool?
}

extension HTTPSettings {
    static let fileKeys: Set<String> = ["httpPort", "httpAddress", "httpUsersFile", "httpSecureCookies"]
    static let keyAliases: [String: String] = [
        "http_port": "httpPort", "http_address": "httpAddress", "http_bind_address": "httpAddress",
        "http_users_file": "httpUsersFile", "http_secure_cookies": "httpSecureCookies",
    ]
    static let intKeys: Set<String> = ["httpPort"]
    static let boolKeys: Set<String> = ["httpSecureCookies"]

    /// nil when the console is off. `fileBase` resolves a relative users file (the config file's folder).
    static func resolve(_ f: HTTPConfigFile, fileBase: URL, workDir: URL) throws -> HTTPSettings? {
        guard let port = f.httpPort else {
            let given = [("httpAddress", f.httpAddress != nil), ("httpUsersFile", f.httpUsersFile != nil),
                         ("httpSecureCookies", f.httpSecureCookies != nil)].filter(\.1).map(\.0)
            if !given.isEmpty {
                throw ConfigError("\(given.joined(separator: ", ")) given but no httpPort: set httpPort to enable the web console")
            }
            return nil
        }
        guard (1...65535).contains(port) else { throw ConfigError("httpPort must be 1-65535, got \(port)") }
        let address = f.httpAddress?.trimmed ?? "127.0.0.1"
        guard !address.isEmpty, (try? StorageSCPConfig.validateBindAddress(address)) != nil else {
            throw ConfigError("httpAddress '\(address)' is not a numeric IPv4 or IPv6 address: use 127.0.0.1 (loopback only, the default; put a TLS reverse proxy in front), ::1, or one local address of this host")
        }
        let users: URL
        if let u = f.httpUsersFile?.trimmed, !u.isEmpty {
            users = u.hasPrefix("/") ? URL(fileURLWithPath: u) : fileBase.appendingPathComponent(u)
        } else {
            users = workDir.appendingPathComponent("console-users.json")
        }
        return HTTPSettings(port: port, address: address, usersFile: users.standardizedFileURL,
                            secureCookies: f.httpSecureCookies ?? false)
    }
}
