import BSNetEngine

/// A tensor a model requires: name (Keras naming without ":0") and shape (Keras layout).
/// The engine supplies the full BS-Net list; loaders check presence and shape against it.
public struct ExpectedTensor: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String
    public var shape: [Int]
    public init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
    }
    public var description: String { "\(name) \(shape)" }

    /// The list of every tensor a provider holds, in its order (handy for tests and tools).
    public static func list(from provider: WeightProvider) throws -> [ExpectedTensor] {
        try provider.tensorNames.map { ExpectedTensor(name: $0, shape: try provider.tensor(named: $0).shape) }
    }
}

/// Problems found when comparing a set of tensors with an expected list.
public enum TensorCheckIssue: Sendable, Equatable, CustomStringConvertible {
    case missing(name: String, expectedShape: [Int])
    case wrongShape(name: String, expected: [Int], found: [Int])
    /// Stored twice in one file (two groups), so names cannot tell which one is meant.
    case duplicated(name: String)

    public var description: String {
        switch self {
        case let .missing(name, shape): return "tensor '\(name)' \(shape) is missing"
        case let .wrongShape(name, expected, found): return "tensor '\(name)' has shape \(found), expected \(expected)"
        case let .duplicated(name): return "tensor '\(name)' appears twice"
        }
    }
    public var tensorName: String {
        switch self {
        case let .missing(name, _), let .wrongShape(name, _, _), let .duplicated(name): return name
        }
    }
}

/// Compares available shapes (by name) with the expected list; extra tensors are allowed.
func checkTensors(shapes: [String: [Int]], expected: [ExpectedTensor]) -> [TensorCheckIssue] {
    expected.compactMap { spec in
        guard let found = shapes[spec.name] else { return .missing(name: spec.name, expectedShape: spec.shape) }
        return found == spec.shape ? nil : .wrongShape(name: spec.name, expected: spec.shape, found: found)
    }
}
