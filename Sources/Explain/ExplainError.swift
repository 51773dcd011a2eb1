/// Typed failures of the explainability maps. Every case says what was wrong.
public enum ExplainError: Error, Equatable, CustomStringConvertible {
    case inputSize(expected: Int, found: Int)
    case badScores(superPixel: Int, reason: String)
    case emptyLungMask
    case disabled

    public var description: String {
        switch self {
        case let .inputSize(e, f): "explainability input has \(f) pixels, expected \(e)"
        case let .badScores(k, r): "scoring the input occluded at super-pixel \(k) gave unusable scores: \(r)"
        case .emptyLungMask: "the predicted lung mask (segmentation > threshold) is empty: nothing to explain"
        case .disabled: "explainability maps are disabled in the configuration"
        }
    }
}
