import Foundation

/// The explanation keys of the configuration: `explain` (file, or env BRIXIA_EXPLAIN) and
/// `explainSegments` (file only). Kept apart so PipelineConfig.swift only calls `apply`.
enum ExplainSettings {
    static func apply(file: ConfigFile, environment: [String: String], to c: inout PipelineConfig) throws {
        if let s = environment["BRIXIA_EXPLAIN"] {
            switch s.lowercased() {
            case "1", "true", "yes": c.explain = true
            case "0", "false", "no": c.explain = false
            default: throw ConfigError("BRIXIA_EXPLAIN must be true or false, got \(s)")
            }
        } else if let v = file.explain {
            c.explain = v
        }
        if let n = file.explainSegments {
            // SLIC needs a few seeds; far above the paper's 180 each map costs hundreds of forward passes.
            guard (4...1000).contains(n) else { throw ConfigError("explainSegments must be between 4 and 1000, got \(n)") }
            c.explainSegments = n
        }
    }
}
