import BSNetEngine

/// Weights held in a dictionary, in a given order: for fixtures, tests and conversions.
public struct InMemoryWeights: WeightProvider, Sendable {
    public let tensorNames: [String]
    private let tensors: [String: WeightTensor]
    public let source: String

    /// `tensors` in order; names must be unique.
    public init(_ tensors: [(name: String, tensor: WeightTensor)], source: String = "in-memory weights") {
        precondition(Set(tensors.map(\.name)).count == tensors.count, "duplicate tensor names")
        self.tensorNames = tensors.map(\.name)
        self.tensors = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
        self.source = source
    }

    public func tensor(named name: String) throws -> WeightTensor {
        guard let t = tensors[name] else { throw MissingTensorError(name: name, source: source) }
        return t
    }
}
