/// Which model produced a result: every stored analysis, SR and rendering records all three
/// (name and version from the bundle's model.json, the weights' content checksum).
public struct ModelIdentity: Sendable, Equatable, Hashable, Codable {
    public var name: String
    public var version: String
    /// Lower-case hex SHA-256 of the weights (docs/model-bundle.md).
    public var weightsSHA256: String
    public init(name: String, version: String, weightsSHA256: String) {
        self.name = name; self.version = version; self.weightsSHA256 = weightsSHA256
    }
}
