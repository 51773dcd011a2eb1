import DicomNetwork
import Foundation

/// What a setting holds. The same parser reads the text of `key = value` files, BRIXIA_* variables and flags.
public enum ConfigValueType: String, Sendable, CaseIterable {
    case path, text, number, integer, bool, list

    /// "must be ..." in error messages.
    var expectation: String {
        switch self {
        case .path: "a path"
        case .text: "text"
        case .number: "a number"
        case .integer: "an integer"
        case .bool: "true or false"
        case .list: "a comma-separated list"
        }
    }
}

/// Allowed values of a number or integer setting.
public enum ConfigRange: Sendable, Equatable {
    case any
    case atLeast(Double)
    case above(Double)
    case within(Double, Double)

    /// The requirement as printed ("1-65535", ">= 1", "> 0"); nil for `any`.
    public var requirement: String? {
        func n(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
        switch self {
        case .any: return nil
        case .atLeast(let lo): return ">= \(n(lo))"
        case .above(let lo): return "> \(n(lo))"
        case .within(let lo, let hi): return "\(n(lo))-\(n(hi))"
        }
    }

    func allows(_ v: Double) -> Bool {
        switch self {
        case .any: return v.isFinite
        case .atLeast(let lo): return v.isFinite && v >= lo
        case .above(let lo): return v.isFinite && v > lo
        case .within(let lo, let hi): return v >= lo && v <= hi
        }
    }
}

/// One setting, written down once: its key, type, allowed range, default, environment variable, the other
/// spellings `key = value` files accept, and its help. Parsing, validation, `--help` of `run`/`serve`,
/// `brixia config keys` and docs/configuration.md are all generated from `ConfigTable.keys`.
public struct ConfigKey: Sendable, Equatable {
    /// The JSON key and canonical name (camelCase).
    public let key: String
    public let type: ConfigValueType
    public let range: ConfigRange
    /// The value when nothing sets it, as text of `type` (a relative path is inside the work folder); nil: unset.
    public let defaultValue: String?
    /// What "unset" means, or how the default is found, for help (e.g. "off", "the shipped model").
    public let defaultNote: String?
    /// BRIXIA_* variable that sets it (nil: file only).
    public let environment: String?
    /// Extra spellings in `key = value` files, besides `key` and its snake_case form.
    public let aliases: [String]
    /// Where it belongs (pipeline, network, console), for help.
    public let section: String
    public let help: String

    init(_ key: String, _ type: ConfigValueType, _ range: ConfigRange = .any, default defaultValue: String? = nil,
         note: String? = nil, env: String? = nil, aliases: [String] = [], section: String = "pipeline", help: String) {
        self.key = key; self.type = type; self.range = range; self.defaultValue = defaultValue; self.defaultNote = note
        self.environment = env; self.aliases = aliases; self.section = section; self.help = help
    }

    /// "quietPeriodSeconds" -> "quiet_period_seconds", "scpAETitle" -> "scp_ae_title".
    public var snakeCase: String {
        let chars = Array(key)
        var out = ""
        for (i, ch) in chars.enumerated() {
            if ch.isUppercase, i > 0 {
                let prev = chars[i - 1], next = i + 1 < chars.count ? chars[i + 1] : nil
                if prev.isLowercase || prev.isNumber || (prev.isUppercase && (next?.isLowercase ?? false)) { out += "_" }
            }
            out += ch.lowercased()
        }
        return out
    }

    /// Every name a `key = value` file may use for it.
    public var spellings: [String] {
        var seen = Set<String>()
        return ([key, snakeCase] + aliases).filter { seen.insert($0).inserted }
    }

    /// The default as shown in help.
    public var defaultText: String {
        guard let v = defaultValue else { return defaultNote ?? "unset" }
        if type == .path { return key == "workDir" ? "./\(v)" : "<workDir>/\(v)" }
        return v.isEmpty ? "(empty)" : v
    }

    /// One line for a command-line flag's help: what it does, its default and its variable.
    public var flagHelp: String {
        var s = help
        if defaultValue != nil || defaultNote != nil { s += " (default \(defaultText))" }
        if let e = environment { s += ". Env: \(e)." }
        return s
    }
}

public enum ConfigTable {
    /// The variable that names the configuration file (not a setting itself).
    public static let configFileEnvironment = "BRIXIA_CONFIG"

    public static let keys: [ConfigKey] = [
        // --- folders, database, model
        ConfigKey("workDir", .path, default: "brixia-work", env: "BRIXIA_WORK_DIR",
                  help: "Folder the default inbox, outbox, archive, quarantine, database and model live in (relative: to the current folder)"),
        ConfigKey("inbox", .path, default: "inbox", env: "BRIXIA_INBOX", help: "Folder where the PACS/storescp drops DICOM files"),
        ConfigKey("outbox", .path, default: "outbox", env: "BRIXIA_OUTBOX", help: "Folder the SR/SC outputs are published to"),
        ConfigKey("archive", .path, default: "archive", env: "BRIXIA_ARCHIVE", help: "Folder processed inputs are moved to"),
        ConfigKey("quarantine", .path, default: "quarantine", env: "BRIXIA_QUARANTINE",
                  help: "Folder unreadable/ineligible inputs are moved to, with <name>.reason.txt"),
        ConfigKey("database", .path, default: "brixia.sqlite", env: "BRIXIA_DB", aliases: ["db"], help: "SQLite database file"),
        ConfigKey("model", .path, note: "<workDir>/model if it holds a model.json, else the shipped default model", env: "BRIXIA_MODEL",
                  help: "Model bundle folder (model.json + safetensors)"),
        // --- processing
        ConfigKey("quietPeriodSeconds", .number, .atLeast(0), default: "10", env: "BRIXIA_QUIET_SECONDS", aliases: ["quiet_period"],
                  help: "Seconds without new instances before a study is processed"),
        ConfigKey("workerThreads", .integer, .atLeast(1), default: "2", env: "BRIXIA_THREADS", aliases: ["threads"],
                  help: "Worker threads for the network"),
        ConfigKey("outputs", .list, default: "sr,sc", env: "BRIXIA_OUTPUTS", help: "Output kinds written per study: sr, sc"),
        ConfigKey("deleteInsteadOfArchive", .bool, default: "false", env: "BRIXIA_DELETE_INPUTS", aliases: ["delete_inputs"],
                  help: "Delete processed inputs instead of archiving them"),
        ConfigKey("alertRules", .list, default: "rise>=3,global>=12", env: "BRIXIA_ALERT_RULES",
                  help: "Alert rules: global>=N, rise>=N, zone-rise>=N, each optionally @C (minimum study confidence)"),
        ConfigKey("trendThreshold", .integer, .atLeast(1), default: "2", env: "BRIXIA_TREND_THRESHOLD",
                  help: "|global delta| >= this is worse/better, else stable"),
        ConfigKey("alertHook", .path, note: "none", env: "BRIXIA_ALERT_HOOK",
                  help: "Executable run once per fired alert, with the alert in BRIXIA_ALERT_* / BRIXIA_STUDY_UID / BRIXIA_PATIENT_ID environment variables (docs/operations.md)"),
        ConfigKey("stabilitySeconds", .number, default: "2",
                  help: "A file is taken only once its size and modification time have not changed for this long (negative: 0)"),
        ConfigKey("rescanIntervalSeconds", .number, default: "30", aliases: ["rescan_interval"],
                  help: "Full inbox rescan interval, the fallback for missed inotify events (at least 0.2)"),
        ConfigKey("retryDelaySeconds", .number, default: "60", aliases: ["retry_delay"],
                  help: "Back-off after a transient failure, doubled after each further one (at most 1 h; negative: 0)"),
        ConfigKey("maxAttempts", .integer, .atLeast(1), default: "3", help: "Claims of one study (crashes included) before its job is set to failed"),
        ConfigKey("maxCrashes", .integer, .atLeast(1), default: "3",
                  help: "Worker deaths while holding one study before it is quarantined as poison"),
        ConfigKey("incompleteFileSeconds", .number, .atLeast(0), default: "120",
                  help: "A stable file that cannot be read is quarantined only once unchanged this long and not open for writing"),
        ConfigKey("fileGroup", .text, note: "none: folders 0700, files 0600",
                  help: "Group (name or number) given to the folders and files Brixia creates, so a PACS sender's account can drop files (folders 2770, files 0660)"),
        ConfigKey("explain", .bool, default: "false", env: "BRIXIA_EXPLAIN",
                  help: "Explanation maps as an extra Secondary Capture, computed after the scores at low priority"),
        ConfigKey("explainSegments", .integer, .within(4, 1000), default: "180", help: "SLIC super-pixels over the whole image for the explanation maps"),
        // --- DICOM network
        ConfigKey("scpPort", .integer, .within(1, 65535), note: "off: no storage SCP", section: "network",
                  help: "TCP port of the storage SCP that receives studies into the inbox"),
        ConfigKey("scpAETitle", .text, default: "BRIXIA", section: "network", help: "AE title of the storage SCP"),
        ConfigKey("scpBindAddress", .text, note: "all interfaces", section: "network",
                  help: "Numeric address the storage SCP listens on (127.0.0.1: loopback only)"),
        ConfigKey("scpAllowedCallingAETitles", .list, note: "none (required with scpPort unless scpAllowAnyCaller)",
                  aliases: ["scp_allowed_callers"], section: "network", help: "Calling AE titles the storage SCP accepts"),
        ConfigKey("scpAllowAnyCaller", .bool, default: "false", section: "network",
                  help: "Accept any calling AE title (a trusted network only)"),
        ConfigKey("scpMaxAssociations", .integer, .within(1, Double(StorageSCPConfig.maxAssociationsLimit)), default: "8", section: "network",
                  help: "Concurrent associations the storage SCP serves"),
        ConfigKey("destinations", .list, note: "none: outputs stay in the outbox", aliases: ["destination"], section: "network",
                  help: "PACS that receive every study's SR and SC, as AE@HOST:PORT"),
        ConfigKey("sendAETitle", .text, note: "scpAETitle, else BRIXIA", section: "network", help: "Calling AE title for C-STORE"),
        ConfigKey("sendTimeoutSeconds", .integer, .atLeast(1), default: "30", aliases: ["send_timeout"], section: "network",
                  help: "Network timeout of one send"),
        ConfigKey("sendInitialBackoffSeconds", .number, .above(0), default: "30", aliases: ["send_initial_backoff"], section: "network",
                  help: "First retry delay of a failed send; doubles per failure"),
        ConfigKey("sendMaxBackoffSeconds", .number, default: "1800", aliases: ["send_max_backoff"], section: "network",
                  help: "Longest retry delay (at least sendInitialBackoffSeconds)"),
        ConfigKey("sendRetryWindowSeconds", .number, .above(0), default: "604800", aliases: ["send_retry_window"], section: "network",
                  help: "After this long without success an item is marked failed (kept, never dropped)"),
        // --- web console
        ConfigKey("httpPort", .integer, .within(1, 65535), note: "off: no web console", section: "console",
                  help: "TCP port of the web console and HTTP API (`brixia serve`)"),
        ConfigKey("httpAddress", .text, default: "127.0.0.1", aliases: ["http_bind_address"], section: "console",
                  help: "Numeric address the console listens on; put a TLS reverse proxy in front of anything but loopback"),
        ConfigKey("httpUsersFile", .path, note: "<workDir>/console-users.json", section: "console",
                  help: "Users with roles and salted password hashes (`brixia user add`); required: no patient data without login"),
        ConfigKey("httpSecureCookies", .bool, default: "false", section: "console",
                  help: "Mark the session cookie Secure (browsers reach the console over HTTPS)"),
    ]

    /// The row of `key` (a programming error when missing: every key the code reads is in the table).
    public static func key(_ name: String) -> ConfigKey {
        guard let k = byKey[name] else { preconditionFailure("configuration key \(name) is not in ConfigTable.keys") }
        return k
    }

    static let byKey: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.key, $0) })
    /// Every accepted spelling in `key = value` files -> the key.
    static let bySpelling: [String: String] = {
        var m: [String: String] = [:]
        for k in keys { for s in k.spellings { precondition(m[s] == nil, "spelling \(s) used twice"); m[s] = k.key } }
        return m
    }()

    /// docs/configuration.md, generated (`brixia config keys --markdown`; a test keeps the committed copy equal).
    public static func markdown() -> String {
        var lines = [
            "# Configuration keys",
            "",
            "Generated from `ConfigTable.keys` (Sources/Pipeline/ConfigTable.swift) by `brixia config keys --markdown`;",
            "a test fails when this file and the table differ. Precedence: flags > `BRIXIA_*` environment > the file",
            "named by `--config` or `\(configFileEnvironment)` > defaults. The file is JSON (the keys as written here) or",
            "`key = value` lines (`#` comments) that also accept the snake_case spellings. Relative paths in a file are",
            "relative to the file's folder; elsewhere to the current folder; path defaults are inside `workDir`.",
            "",
        ]
        for section in ["pipeline", "network", "console"] {
            lines += ["## \(section)", "", "| key | type | default | environment | also spelt | meaning |", "| --- | --- | --- | --- | --- | --- |"]
            for k in keys where k.section == section {
                var type = k.type.rawValue
                if let r = k.range.requirement { type += " \(r)" }
                let others = k.spellings.dropFirst().map { "`\($0)`" }.joined(separator: ", ")
                func cell(_ s: String) -> String {
                    s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "<", with: "&lt;")
                }
                let row = ["`\(k.key)`", type, k.defaultValue != nil ? "`\(k.defaultText)`" : cell(k.defaultText),
                           k.environment.map { "`\($0)`" } ?? "", others, cell(k.help)]
                lines.append("| " + row.joined(separator: " | ") + " |")
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }
}
