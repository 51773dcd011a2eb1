#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import HummingbirdBcrypt

/// What a console user may do: viewers read, operators also retry studies and resend reports.
public enum ConsoleRole: String, Codable, Sendable, CaseIterable {
    case viewer, `operator`
}

/// The users file (`httpUsersFile`): names, roles, bcrypt password hashes and SHA-256 hashes of API tokens.
/// Written by `brixia user add` / `brixia user token`; the server re-reads it when it changes.
public struct UsersFile: Codable, Sendable, Equatable {
    public struct User: Codable, Sendable, Equatable {
        public var name: String
        public var role: ConsoleRole
        /// bcrypt (salted, cost 12).
        public var passwordHash: String
        /// SHA-256 (hex) of each API token: tokens are 256-bit random, so a fast hash is enough; the token
        /// itself is shown once and never stored.
        public var tokenHashes: [String]
    }
    public var users: [User] = []

    public init(users: [User] = []) { self.users = users }

    public static func load(_ url: URL) throws -> UsersFile {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ConsoleError.usersFile(url.path, "does not exist (create it with `brixia user add NAME --role viewer|operator`)") }
        do {
            let data = try Data(contentsOf: url)
            guard data.count < 4_000_000 else { throw ConsoleError.usersFile(url.path, "larger than 4 MB") }
            return try JSONDecoder().decode(UsersFile.self, from: data)
        } catch let e as ConsoleError { throw e } catch {
            throw ConsoleError.usersFile(url.path, "cannot be read: \(error)")
        }
    }

    /// Written atomically, readable by the service account only.
    public func save(_ url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
            guard FileManager.default.createFile(atPath: tmp.path, contents: try encoder.encode(self), attributes: [.posixPermissions: 0o600]) else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            // rename(2): the old file or the new one, never half of either.
            guard rename(tmp.path, url.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            throw ConsoleError.usersFile(url.path, "cannot be written: \(error)")
        }
    }

    public static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    /// Adds or replaces a user (a new password replaces the old one; tokens are kept).
    public mutating func setUser(name: String, role: ConsoleRole, password: String) throws {
        guard Self.validName(name) else { throw ConsoleError.invalid("user name '\(name)': use 1-64 letters, digits, '.', '_' or '-'") }
        guard password.count >= 10 else { throw ConsoleError.invalid("password too short: use at least 10 characters") }
        guard password.utf8.count <= 72 else { throw ConsoleError.invalid("password too long: bcrypt uses at most 72 bytes") }
        let hash = Bcrypt.hash(password, cost: 12)
        if let i = users.firstIndex(where: { $0.name == name }) {
            users[i].role = role; users[i].passwordHash = hash
        } else {
            users.append(User(name: name, role: role, passwordHash: hash, tokenHashes: []))
        }
    }

    /// Creates an API token for `name` and returns it (the only time it is visible).
    public mutating func addToken(name: String) throws -> String {
        guard let i = users.firstIndex(where: { $0.name == name }) else { throw ConsoleError.invalid("no user '\(name)' in the users file") }
        let token = "bxt_" + Secrets.randomHex(32)
        users[i].tokenHashes.append(Secrets.sha256Hex(token))
        return token
    }

    /// The user whose password matches; nil for an unknown name or a wrong password (bcrypt is run for
    /// unknown names too, so timing does not tell which names exist).
    public func authenticate(name: String, password: String) -> User? {
        guard password.utf8.count <= 72 else { return nil }
        guard let u = users.first(where: { $0.name == name }) else {
            _ = Bcrypt.verify(password, hash: Self.dummyHash)
            return nil
        }
        return Bcrypt.verify(password, hash: u.passwordHash) ? u : nil
    }

    public func user(forToken token: String) -> User? {
        guard token.hasPrefix("bxt_"), token.count < 200 else { return nil }
        let h = Secrets.sha256Hex(token)
        return users.first { u in u.tokenHashes.contains { Secrets.constantTimeEqual($0, h) } }
    }

    static let dummyHash = Bcrypt.hash("brixia-no-such-user", cost: 12)
}

enum Secrets {
    static func randomHex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }
    static func sha256Hex(_ s: String) -> String {
        SHA256.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for i in 0..<x.count { d |= x[i] ^ y[i] }
        return d == 0
    }
}

public enum ConsoleError: Error, CustomStringConvertible, Equatable {
    case usersFile(String, String)
    case invalid(String)
    public var description: String {
        switch self {
        case let .usersFile(p, r): "users file \(p) \(r)"
        case let .invalid(r): r
        }
    }
}
