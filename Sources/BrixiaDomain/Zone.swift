/// The six Brixia lung zones. A/B/C: the patient's right lung, upper/middle/lower; D/E/F: the left lung.
/// On a PA/AP film as displayed, image-left = patient's right. BS-Net's region index is r = 2*row + column,
/// so A=r0, D=r1, B=r2, E=r3, C=r4, F=r5 (the official label layout [[A,D],[B,E],[C,F]]).
public enum Zone: String, CaseIterable, Codable, Sendable, Comparable {
    case A, B, C, D, E, F

    public static func < (l: Zone, r: Zone) -> Bool { l.rawValue < r.rawValue }

    /// 0 = upper, 1 = middle, 2 = lower.
    public var row: Int {
        switch self { case .A, .D: 0; case .B, .E: 1; case .C, .F: 2 }
    }
    /// 0 = image-left half (patient's right lung), 1 = image-right half (patient's left lung).
    public var column: Int {
        switch self { case .A, .B, .C: 0; case .D, .E, .F: 1 }
    }
    /// The patient's right lung (A, B, C).
    public var isRight: Bool { column == 0 }
    /// Index into BS-Net's six regions (and the (3,2,4) score tensor flattened to (6,4)).
    public var regionIndex: Int { 2 * row + column }

    public init(regionIndex r: Int) {
        precondition((0..<6).contains(r), "region index \(r) out of 0..<6")
        self = Zone.allCases.first { $0.regionIndex == r }!
    }
}
