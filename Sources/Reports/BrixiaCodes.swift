import BrixiaDomain

/// Codes used in the SR. Standard codes wherever one exists; the private 99BRIXIA scheme only for the
/// Brixia score concepts (see docs/reports.md).
enum BrixiaCodes {
    struct Code { let value: String; let scheme: String; let meaning: String }

    static func findingSite(_ zone: Zone) -> Code {
        switch zone.row {
        case 0: Code(value: "281392002", scheme: "SCT", meaning: "Upper zone of lung")
        case 1: Code(value: "281393007", scheme: "SCT", meaning: "Middle zone of lung")
        default: Code(value: "281394001", scheme: "SCT", meaning: "Lower zone of lung")
        }
    }

    /// Each zone's score has its own concept name, so generic TID 1500 viewers (which show concept names, not
    /// finding-site modifiers) tell the six measurements apart.
    static func zoneScore(_ zone: Zone) -> Code {
        let side = zone.isRight ? "right" : "left"
        let level = ["upper", "middle", "lower"][zone.row]
        return Code(value: "BRX-ZONE-\(zone.rawValue)", scheme: "99BRIXIA", meaning: "Brixia zone \(zone.rawValue) score (\(side) \(level))")
    }

    /// The text Tracking Identifier of a zone's measurement group (the UID is TrackingUIDs').
    static func trackingIdentifier(_ zone: Zone) -> String {
        "Brixia zone \(zone.rawValue) (\(zone.isRight ? "right" : "left") \(["upper", "middle", "lower"][zone.row]) lung zone)"
    }
    static let globalTrackingIdentifier = "Brixia score (global)"

    static func laterality(_ zone: Zone) -> Code {
        zone.isRight ? Code(value: "24028007", scheme: "SCT", meaning: "Right")
                     : Code(value: "7771000", scheme: "SCT", meaning: "Left")
    }

    static func trend(_ t: Trend) -> Code {
        switch t {
        case .worse: Code(value: "BRX-WORSE", scheme: "99BRIXIA", meaning: "Worse than prior exam")
        case .stable: Code(value: "BRX-STABLE", scheme: "99BRIXIA", meaning: "Stable compared with prior exam")
        case .better: Code(value: "BRX-BETTER", scheme: "99BRIXIA", meaning: "Better than prior exam")
        }
    }

    static let disclaimer = "AI-generated, not verified by a physician. Not for diagnostic use."
}
