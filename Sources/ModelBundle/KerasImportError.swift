/// Why a Keras weights file could not be imported. Every case names the file and, where
/// there is one, the layer or tensor.
public enum KerasImportError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(path: String)
    case notHDF5(path: String)
    case unreadable(path: String, reason: String)
    case notKerasWeights(path: String, reason: String)
    case missingDataset(path: String, layer: String, dataset: String)
    case unsupportedDatatype(path: String, dataset: String, detail: String)
    case duplicateTensor(path: String, name: String)
    /// The files hold Keras weights, but not (all of) BS-Net's.
    case notBSNet(paths: [String], issues: [TensorCheckIssue])
    /// The file matches BS-Net neither by name nor by Keras' positional rule.
    case notBSNetByNameOrPosition(path: String, nameIssues: [TensorCheckIssue], positional: PositionalMismatch)
    case noFiles

    public var description: String {
        switch self {
        case let .fileNotFound(path): return "\(path): no such file"
        case let .notHDF5(path): return "\(path): not an HDF5 file"
        case let .unreadable(path, reason): return "\(path): cannot be read: \(reason)"
        case let .notKerasWeights(path, reason): return "\(path): not a Keras weights file: \(reason)"
        case let .missingDataset(path, layer, dataset):
            return "\(path): layer '\(layer)' lists weight '\(dataset)' but the dataset is missing"
        case let .unsupportedDatatype(path, dataset, detail):
            return "\(path): dataset '\(dataset)' has an unsupported datatype (\(detail)); only floating point is accepted"
        case let .duplicateTensor(path, name): return "\(path): tensor '\(name)' appears twice"
        case let .notBSNet(paths, issues):
            return "\(paths.joined(separator: ", ")): not BS-Net weights: \(Self.summary(issues))"
        case let .notBSNetByNameOrPosition(path, nameIssues, positional):
            return "\(path): not BS-Net weights, by name (\(Self.summary(nameIssues))) " +
                "nor by position as Keras loads h5 weights (\(positional))"
        case .noFiles: return "no Keras weights file given"
        }
    }

    static func summary(_ issues: [TensorCheckIssue]) -> String {
        let shown = issues.prefix(5).map(\.description).joined(separator: "; ")
        return issues.count > 5 ? "\(shown) (and \(issues.count - 5) more)" : shown
    }
}

/// A tensor was asked for that the provider does not hold.
public struct MissingTensorError: Error, Equatable, CustomStringConvertible {
    public let name: String
    public let source: String
    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
    public var description: String { "\(source): no tensor named '\(name)'" }
}
