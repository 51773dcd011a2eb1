import BrixiaDomain
import Foundation

/// An alert rule, written on the command line as:
/// - `global>=N`: the exam's global score is at least N (critical level);
/// - `rise>=N`: the global score rose by at least N versus the prior exam;
/// - `zone-rise>=N`: some zone's grade rose by at least N versus the prior exam;
/// - any of these followed by `@C` (0 < C <= 1), e.g. `global>=12@0.6`: fires only when the exam's study
///   confidence (calibrated, docs/model-card.md) is known and at least C, so that an uncertain result
///   does not page anyone (it is still reported, marked low-confidence).
public indirect enum AlertRule: Hashable, Sendable, CustomStringConvertible {
    case globalAtLeast(Int)
    case globalRiseAtLeast(Int)
    case zoneRiseAtLeast(Int)
    case withMinimumConfidence(AlertRule, Double)

    /// "global rise >= 3 vs prior" and "global >= 12".
    public static let defaults: [AlertRule] = [.globalRiseAtLeast(3), .globalAtLeast(12)]

    public init(spec: String) throws {
        let compact = spec.filter { $0 != " " }.lowercased()
        let at = compact.components(separatedBy: "@")
        if at.count == 2 {
            guard let c = Double(at[1]), c.isFinite, c > 0, c <= 1,
                  let base = try? AlertRule(spec: at[0]) else { throw StoreError.invalidRule(spec) }
            self = .withMinimumConfidence(base, c)
            return
        }
        guard at.count == 1 else { throw StoreError.invalidRule(spec) }
        let parts = compact.components(separatedBy: ">=")
        guard parts.count == 2, let n = Int(parts[1]), n >= 0 else { throw StoreError.invalidRule(spec) }
        switch parts[0] {
        case "global": self = .globalAtLeast(n)
        case "rise", "global-rise": self = .globalRiseAtLeast(n)
        case "zone-rise": self = .zoneRiseAtLeast(n)
        default: throw StoreError.invalidRule(spec)
        }
    }

    /// Canonical text form; also the `rule` column of recorded alerts.
    public var spec: String {
        switch self {
        case .globalAtLeast(let n): return "global>=\(n)"
        case .globalRiseAtLeast(let n): return "rise>=\(n)"
        case .zoneRiseAtLeast(let n): return "zone-rise>=\(n)"
        case let .withMinimumConfidence(r, c): return "\(r.spec)@\(c)"
        }
    }

    public var description: String { spec }

    /// Nil when the rule does not fire. Rules comparing with a prior never fire without one; rules with a
    /// minimum confidence never fire when `confidence` (the exam's study confidence) is unknown.
    public func evaluate(current: ZoneGrades, prior: ZoneGrades?, priorDate: String?, confidence: Double? = nil) -> FiredAlert? {
        let since = priorDate.map { " since \($0)" } ?? ""
        switch self {
        case .globalAtLeast(let n):
            guard current.global >= n else { return nil }
            return FiredAlert(rule: spec, value: current.global, message: "global score \(current.global) >= \(n)")
        case .globalRiseAtLeast(let n):
            guard let prior, current.global - prior.global >= n else { return nil }
            let rise = current.global - prior.global
            return FiredAlert(rule: spec, value: rise,
                              message: "global score rose by \(rise) (\(prior.global) -> \(current.global))\(since)")
        case .zoneRiseAtLeast(let n):
            guard let prior else { return nil }
            let rises = Zone.allCases.map { ($0, current[$0] - prior[$0]) }.filter { $0.1 >= n }
            guard let worst = rises.max(by: { $0.1 < $1.1 }) else { return nil }
            let zones = rises.map { "\($0.0.rawValue) +\($0.1)" }.joined(separator: ", ")
            return FiredAlert(rule: spec, value: worst.1, message: "zone grade rise \(zones)\(since)")
        case let .withMinimumConfidence(r, c):
            guard let confidence, confidence >= c,
                  let f = r.evaluate(current: current, prior: prior, priorDate: priorDate) else { return nil }
            return FiredAlert(rule: spec, value: f.value,
                              message: f.message + String(format: " (confidence %.2f >= %.2f)", confidence, c))
        }
    }
}

/// A rule that fired for one exam. `value` is the score or rise that triggered it.
public struct FiredAlert: Codable, Equatable, Sendable {
    public let rule: String
    public let value: Int
    public let message: String
    public init(rule: String, value: Int, message: String) { self.rule = rule; self.value = value; self.message = message }
}
