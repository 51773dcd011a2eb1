import BSNetEngine
import Foundation

/// How a file's tensors were matched to the model's.
public enum KerasMatchRule: String, Sendable, Codable {
    /// By layer and weight name (the h5 group and weight_names), order ignored.
    case names
    /// Keras' own rule for h5 weights (`load_weights`): weight-carrying layers in `layer_names`
    /// order, weights in `weight_names` order, every shape equal; names ignored.
    case position
}

/// A layer group of the file that was matched by position to a layer of another name (or whose
/// weights carry other names), e.g. counter-shifted `retina_net_classifier_6` -> `retina_net_classifier_5`.
public struct KerasGroupRename: Sendable, Equatable, Codable, CustomStringConvertible {
    public let from: String
    public let to: String
    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }
    public var description: String { "\(from) -> \(to)" }
}

/// What was read from one Keras weights file (provenance for the bundle manifest).
public struct KerasSourceInfo: Sendable, Equatable {
    public let path: String
    public let kerasVersion: String?
    public let backend: String?
    public let layerCount: Int
    public let tensorCount: Int
    /// How its tensors were matched to the model (always `.names` without a layout).
    public internal(set) var rule: KerasMatchRule = .names
    /// Groups matched by position whose layer or weight names differ from the model's.
    public internal(set) var renamedGroups: [KerasGroupRename] = []
}

/// Weights from one or more Keras-2 h5 files (`save_weights`, or `model.save` under
/// /model_weights; e.g. the authors' segmentation, alignment and score model files), read
/// through libhdf5.
///
/// The file is followed the way Keras' own loader does: root attribute `layer_names` ->
/// group per layer -> its `weight_names` attribute -> dataset `<layer>/<weight name>`. Tensors
/// are keyed by weight name without the ":0" suffix. With a layout (`init(paths:matching:)`),
/// a file whose names do not match the model is matched the way Keras' `load_weights` does, by
/// position, and accepted only if every shape agrees: the authors' code names the score head from
/// per-process counters, so the same weights can carry shifted names. When several files are
/// given, later files override earlier ones for the tensors they hold, exactly like successive
/// `load_weights` calls in the authors' code (segmentation, then alignment, then score model).
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

    /// Reads the files and keys every tensor by its stored name (no model to match against).
    public init(paths: [String]) throws {
        guard !paths.isEmpty else { throw KerasImportError.noFiles }
        let files = try paths.map(Self.read)
        for f in files { if let d = f.firstDuplicate { throw KerasImportError.duplicateTensor(path: f.info.path, name: d) } }
        self.init(combining: files.map { ($0.info, $0.namedTensors) })
    }

    /// Reads the files and matches them to `layout` (the model's weight-carrying layers in Keras
    /// order, e.g. `BSNetKerasLayout.scoreModel()`), as Keras would load them:
    /// 1. by name, if the files together hold every layout tensor with its shape (extra tensors allowed);
    /// 2. otherwise each file whose tensors are all layout tensors of the right shape keeps its
    ///    names, and every other file is matched by position against the whole layout (Keras'
    ///    rule for h5 weights), accepted only if the layer count, every layer's weight count and
    ///    every shape agree; the renamed groups are recorded in `sources`.
    /// Throws `notBSNet` naming the missing tensors, or `notBSNetByNameOrPosition` naming the
    /// first positional mismatch.
    public init(paths: [String], matching layout: [KerasLayerSpec]) throws {
        guard !paths.isEmpty else { throw KerasImportError.noFiles }
        let files = try paths.map(Self.read)
        let expected = layout.flatMap(\.weights)
        let byName = Self(combining: files.map { ($0.info, $0.namedTensors) })
        let duplicate = files.lazy.compactMap { f in f.firstDuplicate.map { TensorCheckIssue.duplicated(name: $0) } }.first
        let nameIssues = duplicate.map { [$0] } ?? checkTensors(shapes: byName.tensors.mapValues(\.shape), expected: expected)
        if nameIssues.isEmpty {
            self = byName
            return
        }
        let expectedShapes = Dictionary(expected.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        var resolved: [(KerasSourceInfo, [(String, WeightTensor)])] = []
        for file in files {
            let named = file.namedTensors
            let nameClean = file.firstDuplicate == nil && named.allSatisfy { expectedShapes[$0.0] == $0.1.shape }
            if nameClean {
                resolved.append((file.info, named))
                continue
            }
            switch Self.matchByPosition(file, layout: layout) {
            case let .matched(tensors, renamed):
                var info = file.info
                info.rule = .position
                info.renamedGroups = renamed
                resolved.append((info, tensors))
            case let .mismatch(detail):
                throw KerasImportError.notBSNetByNameOrPosition(path: file.info.path, nameIssues: nameIssues, positional: detail)
            }
        }
        let combined = Self(combining: resolved)
        let issues = checkTensors(shapes: combined.tensors.mapValues(\.shape), expected: expected)
        if !issues.isEmpty { throw KerasImportError.notBSNet(paths: paths, issues: issues) }
        self = combined
    }

    /// Applies the files in order, later ones overriding earlier ones.
    private init(combining files: [(KerasSourceInfo, [(String, WeightTensor)])]) {
        var names: [String] = []
        var tensors: [String: WeightTensor] = [:]
        var overridden: [String] = []
        for (_, fileTensors) in files {
            for (name, tensor) in fileTensors {
                if let previous = tensors[name] {
                    if previous.shape != tensor.shape || previous.values != tensor.values { overridden.append(name) }
                } else {
                    names.append(name)
                }
                tensors[name] = tensor
            }
        }
        self.sources = files.map(\.0)
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

    // MARK: Keras' positional rule

    enum PositionalResult {
        case matched([(String, WeightTensor)], renamed: [KerasGroupRename])
        case mismatch(PositionalMismatch)
    }

    /// Keras' `load_weights` for h5 files: layers without weights are skipped, then the k-th
    /// weight-carrying layer of the file feeds the k-th of the model, weight by weight in stored
    /// order; the counts must agree, and here every shape too (Keras checks them on assignment).
    static func matchByPosition(_ file: RawFile, layout: [KerasLayerSpec]) -> PositionalResult {
        let layers = file.layers.filter { !$0.weights.isEmpty }
        var out: [(String, WeightTensor)] = []
        var renamed: [KerasGroupRename] = []
        for (index, (got, want)) in zip(layers, layout).enumerated() {
            guard got.weights.count == want.weights.count else {
                return .mismatch(.init(position: index + 1, of: layout.count,
                    detail: "the file has '\(got.name)' with \(got.weights.count) weights there, " +
                            "BS-Net has '\(want.name)' with \(want.weights.count)"))
            }
            var differs = got.name != want.name
            for (w, (stored, spec)) in zip(got.weights, want.weights).enumerated() where stored.tensor.shape != spec.shape {
                return .mismatch(.init(position: index + 1, of: layout.count,
                    detail: "weight \(w + 1) of the file's '\(got.name)' ('\(stored.weightName)') has shape \(stored.tensor.shape), " +
                            "BS-Net has '\(spec.name)' \(spec.shape) there"))
            }
            for (stored, spec) in zip(got.weights, want.weights) {
                differs = differs || tensorName(fromWeightName: stored.weightName) != spec.name
                out.append((spec.name, stored.tensor))
            }
            if differs { renamed.append(.init(from: got.name, to: want.name)) }
        }
        if layers.count != layout.count {
            let first = layers.count > layout.count ? "first extra: '\(layers[layout.count].name)'" : "first missing: '\(layout[layers.count].name)'"
            return .mismatch(.init(position: min(layers.count, layout.count) + 1, of: layout.count,
                detail: "the file has \(layers.count) weight-carrying layers, BS-Net's score model has \(layout.count) (\(first))"))
        }
        return .matched(out, renamed: renamed)
    }

    // MARK: reading one file

    /// One file as stored: every layer of `layer_names` (weightless ones too) with its weights.
    struct RawFile {
        struct Layer { let name: String; let weights: [(weightName: String, tensor: WeightTensor)] }
        let info: KerasSourceInfo
        let layers: [Layer]
        /// Tensors keyed by stored name, in file order.
        var namedTensors: [(String, WeightTensor)] {
            layers.flatMap { $0.weights.map { (KerasWeightsFile.tensorName(fromWeightName: $0.weightName), $0.tensor) } }
        }
        /// A tensor name stored twice (in different groups): matching by name is then impossible.
        var firstDuplicate: String? {
            var seen = Set<String>()
            return namedTensors.first { !seen.insert($0.0).inserted }?.0
        }
    }

    static func read(path: String) throws -> RawFile {
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

        var layers: [RawFile.Layer] = []
        var tensorCount = 0
        for layer in layerNames {
            let group = prefix + layer
            guard file.exists(group) else {
                throw KerasImportError.notKerasWeights(path: path, reason: "layer '\(layer)' is listed in layer_names but has no group")
            }
            let weightNames = try attributeList(file, "weight_names", on: group, path: path)
            let weights = try weightNames.map { weightName in
                (weightName, try readTensor(file, dataset: group + "/" + weightName, layer: layer, path: path))
            }
            tensorCount += weights.count
            layers.append(.init(name: layer, weights: weights))
        }
        let info = KerasSourceInfo(path: path, kerasVersion: kerasVersion, backend: backend,
                                   layerCount: layerNames.count, tensorCount: tensorCount)
        return RawFile(info: info, layers: layers)
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

/// Where Keras' positional rule failed: the first weight-carrying layer (1-based) that disagrees.
public struct PositionalMismatch: Sendable, Equatable, CustomStringConvertible {
    public let position: Int
    public let of: Int
    public let detail: String
    public var description: String { "weight-carrying layer \(position) of \(of): \(detail)" }
}
