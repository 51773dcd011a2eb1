import Foundation

/// A setting's value, typed by its `ConfigKey.type`.
public enum ConfigValue: Sendable, Equatable {
    case text(String)
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case list([String])
}

/// Settings given on the command line, by configuration key (nil = not given); the text is parsed like an
/// environment variable's. Flags are declared by the commands; their help comes from `ConfigKey.flagHelp`.
public struct ConfigOverrides: Sendable, Equatable {
    public private(set) var values: [String: String] = [:]
    public init() {}
    public subscript(key: String) -> String? {
        get { values[key] }
        set {
            _ = ConfigTable.key(key)   // a flag for a key that does not exist is a programming error
            values[key] = newValue
        }
    }
}

/// The values set by the flags, the environment and the configuration file, merged by precedence
/// (flags > environment > file) and already checked against the table (type and range). Reading a key
/// nobody set gives the table's default.
struct ConfigSources {
    struct Entry { var value: ConfigValue; var base: URL; var origin: String }
    private(set) var entries: [String: Entry] = [:]
    /// Base of relative paths for defaults (set once `workDir` is known).
    var defaultBase: URL

    init(defaultBase: URL) { self.defaultBase = defaultBase }

    /// Whether anyone set the key (defaults do not count).
    func isSet(_ key: String) -> Bool { entries[key] != nil }

    /// The keys that were set, among `keys`.
    func setKeys(_ keys: [String]) -> [String] { keys.filter(isSet) }

    private func value(_ key: String) -> (ConfigValue, URL)? {
        if let e = entries[key] { return (e.value, e.base) }
        let k = ConfigTable.key(key)
        guard let d = k.defaultValue, let v = try? Self.parse(d, as: k, origin: "default") else { return nil }
        return (v, defaultBase)
    }

    func text(_ key: String) -> String? { if case .text(let s)? = value(key)?.0 { return s }; return nil }
    func number(_ key: String) -> Double? {
        switch value(key)?.0 { case .number(let v)?: return v; case .integer(let v)?: return Double(v); default: return nil }
    }
    func integer(_ key: String) -> Int? { if case .integer(let v)? = value(key)?.0 { return v }; return nil }
    func bool(_ key: String) -> Bool? { if case .bool(let v)? = value(key)?.0 { return v }; return nil }
    func list(_ key: String) -> [String]? { if case .list(let v)? = value(key)?.0 { return v }; return nil }
    /// An absolute path: relative values against the folder of where they were given.
    func path(_ key: String) -> URL? {
        guard let (v, base) = value(key), case .text(let s) = v else { return nil }
        return ConfigResolver.absolute(s, base: base)
    }

    /// Lower precedence first: a later `set` of the same key wins.
    mutating func set(_ key: String, _ value: ConfigValue, base: URL, origin: String) {
        entries[key] = Entry(value: value, base: base, origin: origin)
    }

    // MARK: parsing

    /// Text from a `key = value` line, a variable or a flag, as the key's type; range-checked.
    static func parse(_ raw: String, as k: ConfigKey, origin: String) throws -> ConfigValue {
        let s = raw.trimmed
        func bad() -> ConfigError { ConfigError("\(origin) must be \(k.type.expectation), got '\(raw)'") }
        let v: ConfigValue
        switch k.type {
        case .path, .text: v = .text(s)
        case .number: guard let d = Double(s), d.isFinite else { throw bad() }; v = .number(d)
        case .integer: guard let i = Int(s) else { throw bad() }; v = .integer(i)
        case .bool:
            switch s.lowercased() {
            case "1", "true", "yes": v = .bool(true)
            case "0", "false", "no": v = .bool(false)
            default: throw bad()
            }
        case .list: v = .list(s.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty })
        }
        try checkRange(v, k)
        return v
    }

    /// A JSON value as the key's type; range-checked.
    static func parse(json: JSONScalar, as k: ConfigKey, file: String) throws -> ConfigValue {
        func bad() -> ConfigError {
            ConfigError("config file \(file) is not valid: \(k.key) must be \(k.type == .list ? "a list of strings" : k.type.expectation)")
        }
        let v: ConfigValue
        switch (k.type, json) {
        case (.path, .string(let s)), (.text, .string(let s)): v = .text(s.trimmed)
        case (.number, .number(let d)): v = .number(d)
        case (.integer, .number(let d)):
            guard d == d.rounded(), abs(d) < 1e15 else { throw bad() }
            v = .integer(Int(d))
        case (.bool, .bool(let b)): v = .bool(b)
        case (.list, .strings(let l)): v = .list(l.map(\.trimmed).filter { !$0.isEmpty })
        default: throw bad()
        }
        try checkRange(v, k)
        return v
    }

    static func checkRange(_ v: ConfigValue, _ k: ConfigKey) throws {
        let n: Double
        switch v { case .number(let d): n = d; case .integer(let i): n = Double(i); default: return }
        guard !k.range.allows(n), let req = k.range.requirement else { return }
        let shown: String
        if case .integer(let i) = v { shown = String(i) } else { shown = String(n) }
        throw ConfigError("\(k.key) must be \(req), got \(shown)")
    }

    /// The environment's settings (only the variables of the table; an empty variable counts as unset).
    mutating func addEnvironment(_ environment: [String: String], base: URL) throws {
        for k in ConfigTable.keys {
            guard let name = k.environment, let raw = environment[name], !raw.trimmed.isEmpty else { continue }
            set(k.key, try Self.parse(raw, as: k, origin: name), base: base, origin: name)
        }
    }

    mutating func addFlags(_ flags: ConfigOverrides, base: URL) throws {
        for (key, raw) in flags.values.sorted(by: { $0.key < $1.key }) {
            let k = ConfigTable.key(key)
            set(key, try Self.parse(raw, as: k, origin: "the command-line value of \(key)"), base: base, origin: "flag")
        }
    }

    /// A configuration file: JSON (the table's keys) or `key = value` lines (any spelling of a key).
    /// Unknown keys are refused, all of them named: a misspelt key must not silently fall back to a default.
    mutating func addFile(_ url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError("cannot read config file \(url.path): \(error.localizedDescription)")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let base = url.deletingLastPathComponent()
        let origin = "config file \(url.path)"
        if text.hasPrefix("{") {
            let object: [String: JSONScalar]
            do { object = try JSONDecoder().decode([String: JSONScalar].self, from: data) } catch {
                throw ConfigError("config file \(url.path) is not valid: \(ConfigResolver.describe(error))")
            }
            let unknown = object.keys.filter { ConfigTable.byKey[$0] == nil }
            if !unknown.isEmpty { throw ConfigError("\(origin) has unknown keys: \(unknown.sorted().joined(separator: ", "))") }
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                if case .null = value { continue }
                set(key, try Self.parse(json: value, as: ConfigTable.key(key), file: url.path), base: base, origin: origin)
            }
            return
        }
        var unknown: [String] = []
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?.trimmed ?? ""
            if line.isEmpty { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigError("config file \(url.path) line \(n + 1): expected key = value, got '\(line)'")
            }
            let rawKey = String(line[..<eq]).trimmed, value = String(line[line.index(after: eq)...]).trimmed
            guard let key = ConfigTable.bySpelling[rawKey] else { unknown.append(rawKey); continue }
            set(key, try Self.parse(value, as: ConfigTable.key(key), origin: "config file \(url.path) line \(n + 1): \(rawKey)"),
                base: base, origin: origin)
        }
        if !unknown.isEmpty { throw ConfigError("\(origin) has unknown keys: \(unknown.sorted().joined(separator: ", "))") }
    }
}

/// One JSON value of a configuration file (objects are not settings).
enum JSONScalar: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), strings([String])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let l = try? c.decode([String].self) { self = .strings(l); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a string, number, boolean or list of strings")
    }
}
