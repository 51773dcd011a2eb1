import ArgumentParser
import BSNetEngine
import DicomNetwork
import Foundation
import HTTPConsole
import ModelBundle
import Pipeline
import Store

/// `brixia config check FILE`: validates a configuration the way `serve` would use it, without starting
/// anything (no folder is created, no database migrated, no port kept open).
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a configuration before installing or restarting the daemon, or list every setting.",
        subcommands: [ConfigCheckCommand.self, ConfigKeysCommand.self])
}

/// `brixia config keys`: every setting from the one table (ConfigTable.keys) the parser, the checks and the
/// flags' help are generated from.
struct ConfigKeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List every configuration key: type, allowed values, default, environment variable, other spellings.",
        discussion: """
            Precedence: flags > BRIXIA_* environment > the file named by --config or BRIXIA_CONFIG > defaults. \
            JSON files use the keys as listed; key = value files also accept the other spellings.

            Examples:
              brixia config keys
              brixia config keys --json | jq '.[] | select(.environment != null) | .environment'
              brixia config keys --markdown > docs/configuration.md
            """)

    @Flag(help: "Print JSON (an array of keys).") var json = false
    @Flag(help: "Print the Markdown of docs/configuration.md.") var markdown = false

    func run() throws {
        if markdown { print(ConfigTable.markdown(), terminator: ""); return }
        if json {
            let items: [JSONText.Value] = ConfigTable.keys.map { k in
                .object([("key", .string(k.key)), ("type", .string(k.type.rawValue)),
                         ("range", k.range.requirement.map { .string($0) } ?? .null),
                         ("default", k.defaultValue.map { .string($0) } ?? .null),
                         ("defaultNote", k.defaultNote.map { .string($0) } ?? .null),
                         ("environment", k.environment.map { .string($0) } ?? .null),
                         ("spellings", .array(k.spellings.map { .string($0) })),
                         ("section", .string(k.section)), ("help", .string(k.help))])
            }
            print(JSONText.render(.array(items)))
            return
        }
        var section = ""
        for k in ConfigTable.keys {
            if k.section != section { section = k.section; out(section == "pipeline" ? "[\(section)]" : "\n[\(section)]") }
            var type = k.type.rawValue
            if let r = k.range.requirement { type += " \(r)" }
            out("  \(k.key)  (\(type); default \(k.defaultText)\(k.environment.map { "; env \($0)" } ?? ""))")
            out("      \(k.help)")
            if k.spellings.count > 1 { out("      also: \(k.spellings.dropFirst().joined(separator: ", "))") }
        }
    }
}

struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration file: keys and values, folders, database, model, SCP and destinations.",
        discussion: """
            Resolves the configuration exactly as `serve` does (file < BRIXIA_* environment < defaults) and checks \
            that every folder exists and is writable, the database (if present) is a writable file, the model bundle \
            loads with the BS-Net signature, the alert hook is executable, the SCP port can be bound and every \
            destination parses. Nothing is created or changed. With --echo each destination is also verified with \
            a DICOM C-ECHO.

            Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 when the file cannot be \
            read or parsed.

            Examples:
              brixia config check /etc/brixia/brixia.conf
              brixia config check Samples/brixia.conf.example --json
              sudo -u brixia brixia config check /etc/brixia/brixia.conf --echo
            """)

    @Argument(help: "Configuration file (JSON or key = value). Default: BRIXIA_CONFIG.") var file: String?
    @Flag(help: "Also C-ECHO every destination.") var echo = false
    @Flag(help: "Print JSON.") var json = false

    enum Level: String { case ok, warning, failed }
    struct Finding { let level: Level; let item: String; let detail: String }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = file ?? env["BRIXIA_CONFIG"] else {
            throw ValidationError("give the configuration file (or set BRIXIA_CONFIG)")
        }
        let cfg: PipelineConfig
        do {
            cfg = try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: path, environment: env,
                                             currentDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        } catch let e as ConfigError {
            report([Finding(level: .failed, item: "configuration", detail: e.description)], file: path)
            throw ExitCode(2)
        }
        var findings = [Finding(level: .ok, item: "configuration", detail: "\(path) parsed; keys and values valid")]
        findings += folderFindings(cfg)
        findings.append(databaseFinding(cfg.database))
        findings.append(modelFinding(cfg.model))
        if let hook = cfg.alertHook { findings.append(Finding(level: .ok, item: "alertHook", detail: "\(hook.path) is executable")) }
        findings += networkFindings(cfg.network)
        findings += httpFindings(cfg.http)
        report(findings, file: path)
        if findings.contains(where: { $0.level == .failed }) { throw ExitCode(1) }
    }

    func folderFindings(_ c: PipelineConfig) -> [Finding] {
        [("inbox", c.inbox), ("outbox", c.outbox), ("archive", c.archive), ("quarantine", c.quarantine)].map { name, url in
            switch FileKind.of(url.path, followingLinks: true) {
            case .directory:
                return access(url.path, W_OK | X_OK) == 0
                    ? Finding(level: .ok, item: name, detail: "\(url.path) exists and is writable")
                    : Finding(level: .failed, item: name, detail: "\(url.path) is not writable by this user (uid \(getuid()))")
            case .missing:
                if name == "inbox" {
                    return Finding(level: .failed, item: name, detail: "\(url.path) does not exist (serve stops unless --create-folders)")
                }
                let parent = url.deletingLastPathComponent().path
                if access(parent, W_OK | X_OK) == 0 {
                    return Finding(level: .warning, item: name, detail: "\(url.path) does not exist yet; serve creates it")
                }
                let why = FileKind.of(parent, followingLinks: true) == .missing ? "its parent \(parent) does not exist either" : "\(parent) is not writable"
                return Finding(level: .failed, item: name, detail: "\(url.path) does not exist and \(why)")
            default:
                return Finding(level: .failed, item: name, detail: "\(url.path) exists but is not a folder")
            }
        }
    }

    func databaseFinding(_ db: URL) -> Finding {
        switch FileKind.of(db.path, followingLinks: true) {
        case .regular:
            return access(db.path, R_OK | W_OK) == 0
                ? Finding(level: .ok, item: "database", detail: "\(db.path) exists and is writable")
                : Finding(level: .failed, item: "database", detail: "\(db.path) is not readable and writable by this user")
        case .missing:
            let parent = db.deletingLastPathComponent().path
            return access(parent, W_OK | X_OK) == 0 || FileKind.of(parent, followingLinks: true) == .missing
                ? Finding(level: .warning, item: "database", detail: "\(db.path) does not exist yet; serve creates it")
                : Finding(level: .failed, item: "database", detail: "\(db.path) cannot be created: \(parent) is not writable")
        default:
            return Finding(level: .failed, item: "database", detail: "\(db.path) is not a regular file")
        }
    }

    func modelFinding(_ dir: URL) -> Finding {
        do {
            let m = try ModelBundle.load(from: dir, expecting: BSNetSignature.tensors).manifest
            if m.isTestFixture {
                return Finding(level: .failed, item: "model", detail: "\(dir.path) is a random test fixture, not a trained model")
            }
            return Finding(level: .ok, item: "model", detail: "\(m.name) \(m.version) at \(dir.path), weights sha256 \(m.weights.sha256.prefix(16))…")
        } catch {
            return Finding(level: .failed, item: "model", detail: "\(dir.path): \(error)")
        }
    }

    func networkFindings(_ n: NetworkSettings) -> [Finding] {
        var out: [Finding] = []
        if let scp = n.scp {
            let who = scp.allowAnyCaller ? "any calling AE title" : "calling AE titles \(scp.allowedCallingAETitles.joined(separator: ", "))"
            let bind = scp.bindAddress.isEmpty ? "0.0.0.0" : scp.bindAddress
            switch PortProbe.canBind(address: bind, port: scp.port) {
            case .success:
                out.append(Finding(level: .ok, item: "scp", detail: "\(scp.aeTitle) on \(bind):\(scp.port) accepting \(who)"))
            case .failure(let why):
                out.append(Finding(level: .warning, item: "scp", detail: "\(bind):\(scp.port) cannot be bound now (\(why)); a running brixia serve holds it, or another program does"))
            }
        } else {
            out.append(Finding(level: .ok, item: "scp", detail: "off (no scpPort)"))
        }
        if n.destinations.isEmpty { out.append(Finding(level: .ok, item: "destinations", detail: "none: outputs stay in the outbox")) }
        for d in n.destinations {
            guard echo else { out.append(Finding(level: .ok, item: "destination", detail: "\(d)")); continue }
            do {
                try DicomSCU(callingAETitle: n.callingAETitle, timeoutSeconds: min(n.sendTimeoutSeconds, 15)).echo(d)
                out.append(Finding(level: .ok, item: "destination", detail: "\(d): C-ECHO ok"))
            } catch {
                out.append(Finding(level: .failed, item: "destination", detail: "\(d): C-ECHO failed: \(error)"))
            }
        }
        return out
    }

    /// The web console: port free, users file present with at least one user, and a warning when it listens
    /// beyond loopback without Secure cookies (then TLS is missing in front of it).
    func httpFindings(_ h: HTTPSettings?) -> [Finding] {
        guard let h else { return [Finding(level: .ok, item: "http", detail: "off (no httpPort)")] }
        var out: [Finding] = []
        switch PortProbe.canBind(address: h.address, port: UInt16(h.port)) {
        case .success: out.append(Finding(level: .ok, item: "http", detail: "web console on http://\(h.address):\(h.port)"))
        case .failure(let why):
            out.append(Finding(level: .warning, item: "http", detail: "\(h.address):\(h.port) cannot be bound now (\(why)); a running brixia serve holds it, or another program does"))
        }
        let loopback = h.address == "127.0.0.1" || h.address == "::1" || h.address.hasPrefix("127.")
        if !loopback && !h.secureCookies {
            out.append(Finding(level: .warning, item: "http", detail: "listens on \(h.address) without httpSecureCookies: put a TLS reverse proxy in front (docs/http-api.md) and set http_secure_cookies = true"))
        }
        do {
            try ConsoleServer.checkUsersFile(h.usersFile)
            let n = try UsersFile.load(h.usersFile).users.count
            out.append(Finding(level: .ok, item: "httpUsersFile", detail: "\(h.usersFile.path): \(n) user(s)"))
        } catch {
            out.append(Finding(level: .failed, item: "httpUsersFile", detail: "\(error)"))
        }
        return out
    }

    func report(_ findings: [Finding], file: String) {
        if json {
            let items: [JSONText.Value] = findings.map {
                .object([("level", .string($0.level.rawValue)), ("item", .string($0.item)), ("detail", .string($0.detail))])
            }
            print(JSONText.render(.object([("file", .string(file)),
                                           ("ok", .bool(!findings.contains { $0.level == .failed })),
                                           ("checks", .array(items))])))
            return
        }
        for f in findings { out("\(pad(f.level.rawValue, 8)) \(pad(f.item, 13)) \(f.detail)") }
        let failed = findings.filter { $0.level == .failed }.count, warned = findings.filter { $0.level == .warning }.count
        out(failed == 0 ? "configuration ok (\(warned) warning\(warned == 1 ? "" : "s"))" : "\(failed) check\(failed == 1 ? "" : "s") failed")
    }
}

/// Binds and closes a TCP socket to tell whether the SCP could listen (nothing is accepted).
enum PortProbe {
    static func canBind(address: String, port: UInt16) -> Result<Void, ProbeError> {
        let v6 = address.contains(":")
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(ProbeError(errno)) }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc: Int32
        if v6 {
            var a = sockaddr_in6(); a.sin6_family = sa_family_t(AF_INET6); a.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, address, &a.sin6_addr) == 1 else { return .failure(ProbeError(EINVAL)) }
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var a = sockaddr_in(); a.sin_family = sa_family_t(AF_INET); a.sin_port = port.bigEndian
            guard inet_pton(AF_INET, address, &a.sin_addr) == 1 else { return .failure(ProbeError(EINVAL)) }
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        return rc == 0 ? .success(()) : .failure(ProbeError(errno))
    }

    struct ProbeError: Error, CustomStringConvertible {
        let code: Int32
        init(_ code: Int32) { self.code = code }
        var description: String { String(cString: strerror(code)) }
    }
}
