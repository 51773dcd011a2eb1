/// Errors of the engine. Each names what is wrong (tensor, expected/actual shape, input position).
public enum BSNetError: Error, CustomStringConvertible, Equatable {
    case missingTensor(name: String)
    case tensorShapeMismatch(name: String, expected: [Int], found: [Int])
    case inputSizeMismatch(expected: Int, found: Int)
    case nonFiniteInput(index: Int, value: Float)
    case unknownLayer(String)

    public var description: String {
        switch self {
        case let .missingTensor(n): return "weight tensor '\(n)' is missing"
        case let .tensorShapeMismatch(n, e, f): return "weight tensor '\(n)' has shape \(f), expected \(e)"
        case let .inputSizeMismatch(e, f): return "input has \(f) values, expected \(e) (512x512, row-major)"
        case let .nonFiniteInput(i, v):
            return "input contains a non-finite value (\(v)) at index \(i) (row \(i / BSNetArchitecture.inputSize), column \(i % BSNetArchitecture.inputSize))"
        case let .unknownLayer(n): return "no layer named '\(n)'"
        }
    }
}

public struct TensorSpec: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var shape: [Int]
    public init(name: String, shape: [Int]) { self.name = name; self.shape = shape }
    public var description: String { "\(name) \(shape)" }
}
