/// Grades 0-3 for the six zones; the global Brixia score is their sum (0-18).
/// Encodes as {"A": n, ..., "F": n}.
public struct ZoneGrades: Equatable, Hashable, Sendable, Codable {
    private var grades: [Int]

    public init(_ byZone: [Zone: Int]) throws {
        var grades = [Int]()
        for zone in Zone.allCases {
            guard let grade = byZone[zone] else {
                throw GradeError(zone: zone, reason: "missing grade")
            }
            guard (0...3).contains(grade) else {
                throw GradeError(zone: zone, reason: "grade \(grade) outside 0...3")
            }
            grades.append(grade)
        }
        self.grades = grades
    }

    public init(a: Int, b: Int, c: Int, d: Int, e: Int, f: Int) throws {
        try self.init([.A: a, .B: b, .C: c, .D: d, .E: e, .F: f])
    }

    /// For values read back from the database, where CHECK constraints already hold.
    package init(unchecked grades: [Int]) { self.grades = grades }

    public subscript(zone: Zone) -> Int { grades[Zone.allCases.firstIndex(of: zone)!] }
    public var global: Int { grades.reduce(0, +) }
    public var asDictionary: [Zone: Int] { Dictionary(uniqueKeysWithValues: Zone.allCases.map { ($0, self[$0]) }) }
    /// Grades in zone order A...F.
    public var ordered: [Int] { grades }

    struct Key: CodingKey {
        var stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for zone in Zone.allCases { try container.encode(self[zone], forKey: Key(stringValue: zone.rawValue)) }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        var byZone = [Zone: Int]()
        for zone in Zone.allCases { byZone[zone] = try container.decode(Int.self, forKey: Key(stringValue: zone.rawValue)) }
        try self.init(byZone)
    }
}

/// A zone grade that is missing or outside 0...3.
public struct GradeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var zone: Zone
    public var reason: String
    public init(zone: Zone, reason: String) { self.zone = zone; self.reason = reason }
    public var description: String { "invalid zone \(zone.rawValue): \(reason)" }
}
