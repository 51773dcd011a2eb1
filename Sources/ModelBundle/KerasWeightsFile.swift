import BSNetEngine
import Foundation

/// What was read from one Keras weights file (provenance for the bundle manifest).
public struct KerasSourceInfo: Sendable, Equatable {
    public let path: String
    public let kerasVersion: String?
    public let backend: String?
    public let layerCount: Int
    public let tensorCount: Int
}

/// Weights from one or more Keras-2 `save_weights` h5 files (e.g. the authors' segmentation,
/// alignment and score model files), read through libhdf5.
///
/// The file is followed the way Keras' own loader does: root attribute `layer_names` ->
/// group per layer -> its `weight_names` attribute -> dataset `<layer>/<weight name>`. Tensors
/// are keyed by weight name without the ":0" suffix, never by position, because layer order
/// differs between Keras versions. When several files are given, later files override earlier
/// ones for the tensors they hold, exactly like successive `load_weights` calls in the
/// authors' code (segmentation, then alignment, then score model).
public struct KerasWeightsFile: WeightProvider, Sendable {
    public let sources: [KerasSourceInfo]
    /// Names in first-seen order (layer_names order, then weight_names order).
    public let tensorNames: [String]
    private let tensors: [String: WeightTensor]
    /// Tensors present in more than one file whose values differ (later file won).
    public let overriddenWithDifferentValues: [String]

    public init(path: String) throws {
        try self.init(paths: [path])
    }

    public init(paths: [String]) throws {
        guard !paths.isEmpty else { throw KerasImportError.noFiles }
        var names: [String] = []
        var tensors: [String: WeightTensor] = [:]
        var sources: [KerasSourceInfo] = []
        var overridden: [String] = []
        for path in paths {
            let file = try Self.read(path: path)
            sources.append(file.info)
            for (name, tensor) in file.tensors {
                if let previous = tensors[name] {
                    if previous.shape != tensor.shape || previous.values != tensor.values { overridden.append(name) }
                } else {
                    names.append(name)
                }
                tensors[name] = tensor
            }
        }
        self.sources = sources
        self.tensorNames = names
        self.tensors = tensors
        self.overriddenWithDifferentValues = overridden
    }

    public func tensor(named name: String) throws -> WeightTensor {
        guard let t = tensors[name] else {
            throw MissingTensorError(name: name, source: sources.map(\.path).joined(separator: ", "))
        }
        return t
    }

    /// Throws `KerasImportError.notBSNet` unless every expected tensor is present with its shape.
    public func check(against expected: [ExpectedTensor]) throws {
        let issues = checkTensors(shapes: tensors.mapValues(\.shape), expected: expected)
        if !issues.isEmpty { throw KerasImportError.notBSNet(paths: sources.map(\.path), issues: issues) }
    }

    public var parameterCount: Int { tensors.values.reduce(0) { $0 + $1.values.count } }

    // MARK: reading one file

    private static func read(path: String) throws -> (info: KerasSourceInfo, tensors: [(String, WeightTensor)]) {
        guard FileManager.default.fileExists(atPath: path) else { throw KerasImportError.fileNotFound(path: path) }
        let file: HDF5File
        switch HDF5File.openReadOnly(path: path) {
        case .opened(let f): file = f
        case .notHDF5: throw KerasImportError.notHDF5(path: path)
        case .unreadable: throw KerasImportError.unreadable(path: path, reason: "libhdf5 could not open it")
        }
        // `model.save` files keep the same layout under /model_weights.
        let root: String
        if file.hasAttribute("layer_names", on: "/") || file.hasAttribute("layer_names0", on: "/") {
            root = "/"
        } else if file.hasAttribute("layer_names", on: "/model_weights") || file.hasAttribute("layer_names0", on: "/model_weights") {
            root = "/model_weights"
        } else {
            throw KerasImportError.notKerasWeights(path: path, reason: "no 'layer_names' attribute at the root")
        }
        let layerNames = try attributeList(file, "layer_names", on: root, path: path)
        let kerasVersion = try? attributeList(file, "keras_version", on: root, path: path).first
        let backend = try? attributeList(file, "backend", on: root, path: path).first
        let prefix = root == "/" ? "/" : root + "/"

        var out: [(String, WeightTensor)] = []
        var seen = Set<String>()
        for layer in layerNames {
            let group = prefix + layer
            guard file.exists(group) else {
                throw KerasImportError.notKerasWeights(path: path, reason: "layer '\(layer)' is listed in layer_names but has no group")
            }
            let weightNames = try attributeList(file, "weight_names", on: group, path: path)
            for weightName in weightNames {
                let dataset = group + "/" + weightName
                let tensor = try readTensor(file, dataset: dataset, layer: layer, path: path)
                let name = tensorName(fromWeightName: weightName)
                guard seen.insert(name).inserted else { throw KerasImportError.duplicateTensor(path: path, name: name) }
                out.append((name, tensor))
            }
        }
        let info = KerasSourceInfo(path: path, kerasVersion: kerasVersion, backend: backend,
                                   layerCount: layerNames.count, tensorCount: out.count)
        return (info, out)
    }

    /// "conv0/kernel:0" -> "conv0/kernel" (the engine's naming).
    static func tensorName(fromWeightName weightName: String) -> String {
        weightName.hasSuffix(":0") ? String(weightName.dropLast(2)) : weightName
    }

    /// Reads a string-list attribute, including Keras' split form (`name0`, `name1`, ...) that
    /// it uses when the list exceeds HDF5's 64 KiB object-header limit.
    private static func attributeList(_ file: HDF5File, _ name: String, on object: String, path: String) throws -> [String] {
        func one(_ attr: String) throws -> [String] {
            do { return try file.stringsAttribute(attr, on: object) } catch {
                switch error {
                case .notFound: throw KerasImportError.notKerasWeights(path: path, reason: "'\(object)' has no '\(attr)' attribute")
                case .wrongType: throw KerasImportError.notKerasWeights(path: path, reason: "attribute '\(attr)' of '\(object)' is not a list of strings")
                default: throw KerasImportError.unreadable(path: path, reason: "attribute '\(attr)' of '\(object)'")
                }
            }
        }
        if file.hasAttribute(name, on: object) { return try one(name) }
        var all: [String] = []
        var chunk = 0
        while file.hasAttribute("\(name)\(chunk)", on: object) {
            all += try one("\(name)\(chunk)")
            chunk += 1
        }
        if chunk == 0 { return try one(name) }  // throws the "no attribute" error
        return all
    }

    private static func readTensor(_ file: HDF5File, dataset: String, layer: String, path: String) throws -> WeightTensor {
        let info: HDF5File.DatasetInfo
        do { info = try file.datasetInfo(dataset) } catch {
            switch error {
            case .notFound: throw KerasImportError.missingDataset(path: path, layer: layer, dataset: dataset)
            case .wrongType: throw KerasImportError.notKerasWeights(path: path, reason: "'\(dataset)' is not a dataset")
            case .tooLarge: throw KerasImportError.unsupportedDatatype(path: path, dataset: dataset, detail: "rank above 8")
            case .failed: throw KerasImportError.unreadable(path: path, reason: "dataset '\(dataset)'")
            }
        }
        guard info.isFloat else {
            let kind = info.isInteger ? "integer" : "non-numeric"
            throw KerasImportError.unsupportedDatatype(path: path, dataset: dataset, detail: "\(kind), \(info.elementBytes) bytes")
        }
        let count = info.shape.reduce(1, *)
        do {
            return WeightTensor(shape: info.shape, values: try file.readFloats(dataset, count: count))
        } catch {
            throw KerasImportError.unreadable(path: path, reason: "dataset '\(dataset)' could not be read")
        }
    }
}
