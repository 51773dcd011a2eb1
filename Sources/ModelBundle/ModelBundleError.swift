/// Why a model bundle could not be loaded, verified or written. Each case names the bundle
/// directory and, where there is one, the file or tensor.
public enum ModelBundleError: Error, Equatable, CustomStringConvertible {
    case bundleNotFound(directory: String)
    case missingFile(directory: String, file: String)
    case corruptManifest(file: String, reason: String)
    case unsupportedFormat(file: String, reason: String)
    case checksumMismatch(file: String, expected: String, found: String)
    case wrongDType(directory: String, tensor: String, expected: SafetensorsDType, found: SafetensorsDType)
    case tensorsDoNotMatch(directory: String, issues: [TensorCheckIssue])
    case invalidWeights(directory: String, underlying: SafetensorsError)
    case nonFiniteValue(directory: String, tensor: String)
    case destinationExists(directory: String)
    case writeFailed(directory: String, reason: String)

    public var description: String {
        switch self {
        case let .bundleNotFound(d): return "\(d): no model bundle (directory not found)"
        case let .missingFile(d, f): return "\(d): model bundle is missing \(f)"
        case let .corruptManifest(f, r): return "\(f): corrupt model manifest: \(r)"
        case let .unsupportedFormat(f, r): return "\(f): unsupported model bundle: \(r)"
        case let .checksumMismatch(f, e, found):
            return "\(f): SHA-256 mismatch: model.json says \(e), the weights give \(found) (weights changed or corrupt)"
        case let .wrongDType(d, t, e, f): return "\(d): tensor '\(t)' is \(f.rawValue), model.json says \(e.rawValue)"
        case let .tensorsDoNotMatch(d, issues):
            let shown = issues.prefix(5).map(\.description).joined(separator: "; ")
            let more = issues.count > 5 ? " (and \(issues.count - 5) more)" : ""
            return "\(d): weights do not match the model: \(shown)\(more)"
        case let .invalidWeights(d, e): return "\(d): \(e.description)"
        case let .nonFiniteValue(d, t): return "\(d): tensor '\(t)' holds a NaN or infinite value"
        case let .destinationExists(d): return "\(d): already exists (replace it with --overwrite, or overwrite: true)"
        case let .writeFailed(d, r): return "\(d): cannot write model bundle: \(r)"
        }
    }
}
