import ArgumentParser
import Foundation
import HTTPConsole
import Pipeline

/// Accounts of the web console: `brixia user add` / `token` / `list` write and read the users file.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage the web console's users (bcrypt password hashes and API tokens in the users file).",
        discussion: """
            The users file is the config's `httpUsersFile` (default <workDir>/console-users.json), or --users-file. \
            Roles: viewer (read) and operator (also retry failed studies and resend reports).

            Examples:
              brixia user add alice --role operator --config /etc/brixia/brixia.conf     # password from the terminal
              printf '%s\\n' "$PASSWORD" | brixia user add ci --role viewer --users-file users.json
              brixia user token ci --users-file users.json                                # prints a bearer token once
            """,
        subcommands: [Add.self, Token.self, List.self])

    struct Location: ParsableArguments {
        @Option(name: .customLong("users-file"), help: "Users file (default: httpUsersFile of the configuration).")
        var usersFile: String?
        @Option(help: "The configuration `serve` uses. Env: BRIXIA_CONFIG.") var config: String?
        @Option(name: .customLong("work-dir"), help: "The working folder `serve` uses. Env: BRIXIA_WORK_DIR.") var workDir: String?

        func url() throws -> URL {
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            if let u = usersFile { return u.hasPrefix("/") ? URL(fileURLWithPath: u) : cwd.appendingPathComponent(u) }
            var o = ConfigOverrides()
            o["workDir"] = workDir
            do {
                let c = try ConfigResolver.resolve(flags: o, configPath: config, environment: ProcessInfo.processInfo.environment,
                                                   currentDirectory: cwd, shippedModel: { nil })
                return c.http?.usersFile ?? c.inbox.deletingLastPathComponent().appendingPathComponent("console-users.json")
            } catch let e as ConfigError {
                throw CommandFailure(description: e.description)
            }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user or set a user's password and role; the password is read from the terminal (no echo) or the first line of stdin.")
        @Argument(help: "User name (letters, digits, '.', '_', '-').") var name: String
        @Option(help: "viewer or operator.") var role: String
        @OptionGroup var location: Location

        func run() throws {
            guard let r = ConsoleRole(rawValue: role) else { throw ValidationError("--role must be viewer or operator") }
            let url = try location.url()
            var users = FileManager.default.fileExists(atPath: url.path) ? try load(url) : UsersFile()
            let password = try readPassword()
            do { try users.setUser(name: name, role: r, password: password); try users.save(url) } catch let e as ConsoleError {
                throw CommandFailure(description: e.description)
            }
            print("user \(name) (\(r.rawValue)) written to \(url.path)")
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API bearer token for a user and print it (only its hash is stored: keep it now).")
        @Argument(help: "User name.") var name: String
        @OptionGroup var location: Location

        func run() throws {
            let url = try location.url()
            var users = try load(url)
            do {
                let token = try users.addToken(name: name)
                try users.save(url)
                print(token)
            } catch let e as ConsoleError { throw CommandFailure(description: e.description) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users, roles and how many API tokens each has.")
        @OptionGroup var location: Location
        func run() throws {
            for u in try load(try location.url()).users { print("\(u.name)\t\(u.role.rawValue)\t\(u.tokenHashes.count) tokens") }
        }
    }
}

private func load(_ url: URL) throws -> UsersFile {
    do { return try UsersFile.load(url) } catch let e as ConsoleError { throw CommandFailure(description: e.description) }
}

/// From a terminal: prompt without echo (twice). Otherwise: the first line of stdin (scripts, tests).
private func readPassword() throws -> String {
    if isatty(STDIN_FILENO) != 0 {
        guard let a = getpass("Password: ").map({ String(cString: $0) }) else { throw CommandFailure(description: "no password read") }
        guard let b = getpass("Again: ").map({ String(cString: $0) }), a == b else { throw CommandFailure(description: "the passwords differ") }
        return a
    }
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw CommandFailure(description: "no password on standard input (one line expected)")
    }
    return line
}
