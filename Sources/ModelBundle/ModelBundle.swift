import BSNetEngine
import Crypto
import Foundation

/// A model bundle: a directory with `model.json` (ModelManifest) and `weights.safetensors`.
/// Loading checks the format, the weights' SHA-256 against the manifest, every tensor's dtype,
/// and every expected tensor's presence and shape, so the engine can trust what it gets.
public struct ModelBundle: Sendable {
    public static let manifestFileName = "model.json"
    public static let weightsFileName = "weights.safetensors"

    public let manifest: ModelManifest
    public let weights: WeightProvider & Sendable
    public let directory: URL

    /// Loads and checks a bundle. `expecting` is the model's tensor list (the engine's
    /// `BSNet.tensorSpecs`); pass [] to check only integrity.
    public static func load(from directory: URL, expecting: [ExpectedTensor]) throws -> ModelBundle {
        let dir = directory.standardizedFileURL
        let manifest = try loadManifest(from: dir)
        let manifestURL = dir.appendingPathComponent(manifestFileName)
        // The weights must sit inside the bundle: no paths, so a manifest cannot point elsewhere.
        let weightsName = manifest.weights.file
        guard !weightsName.isEmpty, !weightsName.contains("/"), weightsName != ".", weightsName != ".." else {
            throw ModelBundleError.corruptManifest(file: manifestURL.path, reason: "weights.file '\(weightsName)' must be a file name inside the bundle")
        }
        let weightsURL = dir.appendingPathComponent(manifest.weights.file)
        guard let weightsData = FileManager.default.contents(atPath: weightsURL.path) else {
            throw ModelBundleError.missingFile(directory: dir.path, file: manifest.weights.file)
        }
        // Hash and parse the same bytes, so what was checked is what is used. formatVersion 1
        // recorded the SHA-256 of the whole file; from 2 on it is the content checksum, computed
        // from the parsed tensors (the parser rejects any byte outside them).
        let legacy = manifest.formatVersion < 2
        if legacy {
            let digest = sha256Hex(weightsData)
            guard digest == manifest.weights.sha256.lowercased() else {
                throw ModelBundleError.checksumMismatch(file: weightsURL.path, expected: manifest.weights.sha256, found: digest)
            }
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(data: weightsData, source: weightsURL.path) } catch let e as SafetensorsError {
            throw ModelBundleError.invalidWeights(directory: dir.path, underlying: e)
        }
        if !legacy {
            let digest = file.canonicalSHA256()
            guard digest == manifest.weights.sha256.lowercased() else {
                throw ModelBundleError.checksumMismatch(file: weightsURL.path, expected: manifest.weights.sha256, found: digest)
            }
        }
        for name in file.tensorNames {
            let entry = file.entries[name]!
            if entry.dtype != manifest.weights.dtype {
                throw ModelBundleError.wrongDType(directory: dir.path, tensor: name, expected: manifest.weights.dtype, found: entry.dtype)
            }
        }
        if file.tensorNames.count != manifest.weights.tensorCount {
            throw ModelBundleError.corruptManifest(file: manifestURL.path,
                reason: "weights.tensorCount is \(manifest.weights.tensorCount) but the weights file holds \(file.tensorNames.count)")
        }
        // The engine runs every head the weights hold; the manifest must say how many, so an ensemble is never
        // a surprise and a head cannot be dropped or added without changing model.json.
        let heads = BSNet.scoreHeads(in: Set(file.tensorNames))
        if heads != (manifest.scoreHeads ?? 1) {
            throw ModelBundleError.corruptManifest(file: manifestURL.path,
                reason: "scoreHeads is \(manifest.scoreHeads.map(String.init) ?? "absent (1)") but the weights hold \(heads) score heads")
        }
        var expected = expecting
        if heads > 1 && !expecting.isEmpty {
            let base = Set(expecting.map(\.name))
            expected += try BSNet.tensorSpecs(scoreHeads: heads).filter { !base.contains($0.name) }
                .map { ExpectedTensor(name: $0.name, shape: $0.shape) }
        }
        let issues = checkTensors(shapes: file.entries.mapValues(\.shape), expected: expected)
        if !issues.isEmpty { throw ModelBundleError.tensorsDoNotMatch(directory: dir.path, issues: issues) }
        return ModelBundle(manifest: manifest, weights: file, directory: dir)
    }

    /// The weights' content checksum (what formatVersion 2 records), whatever the manifest's version.
    public func contentSHA256() -> String? { (weights as? SafetensorsFile)?.canonicalSHA256() }

    /// Decodes every tensor and rejects NaN/infinity (the `model verify` deep check).
    public func verifyValues() throws {
        for name in weights.tensorNames {
            let t = try weights.tensor(named: name)
            if t.values.contains(where: { !$0.isFinite }) {
                throw ModelBundleError.nonFiniteValue(directory: directory.path, tensor: name)
            }
        }
    }

    /// The bundle's model.json alone, decoded and validated (the weights are neither read nor checked): for
    /// what needs only the manifest, e.g. the image-content check's recorded bounds.
    public static func loadManifest(from directory: URL) throws -> ModelManifest {
        let dir = directory.standardizedFileURL
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw ModelBundleError.bundleNotFound(directory: dir.path)
        }
        let manifestURL = dir.appendingPathComponent(manifestFileName)
        guard let manifestData = FileManager.default.contents(atPath: manifestURL.path) else {
            throw ModelBundleError.missingFile(directory: dir.path, file: manifestFileName)
        }
        return try decodeManifest(manifestData, file: manifestURL.path)
    }

    static func decodeManifest(_ data: Data, file: String) throws -> ModelManifest {
        // Check the format tag first so a foreign JSON file gets a clear message.
        if let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let format = obj["format"] as? String, format != ModelManifest.formatName {
                throw ModelBundleError.unsupportedFormat(file: file, reason: "format is '\(format)', expected '\(ModelManifest.formatName)'")
            }
            if let v = obj["formatVersion"] as? Int, v > ModelManifest.currentFormatVersion {
                throw ModelBundleError.unsupportedFormat(file: file, reason: "formatVersion \(v) is newer than this program (\(ModelManifest.currentFormatVersion))")
            }
        }
        do {
            let m = try JSONDecoder().decode(ModelManifest.self, from: data)
            _ = try m.calibration?.validated(file: file)
            _ = try m.readout?.validated(file: file)
            _ = try m.qualityCheck?.validated(file: file)
            if let h = m.scoreHeads, !(1...BSNetArchitecture.maxScoreHeads).contains(h) {
                throw ModelBundleError.corruptManifest(file: file, reason: "scoreHeads is \(h), expected 1 to \(BSNetArchitecture.maxScoreHeads)")
            }
            return m
        } catch let e as ModelBundleError {
            throw e
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelBundleError.corruptManifest(file: file, reason: "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ModelBundleError.corruptManifest(file: file, reason: "field '\(path)' has the wrong type")
        } catch let DecodingError.dataCorrupted(ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ModelBundleError.corruptManifest(file: file, reason: path.isEmpty ? "not valid JSON" : "field '\(path)' is invalid")
        } catch {
            throw ModelBundleError.corruptManifest(file: file, reason: "\(error)")
        }
    }

    public static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    public static func sha256Hex(ofFile url: URL) throws -> String {
        // Streamed: source h5 files can be large.
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw ModelBundleError.writeFailed(directory: url.path, reason: "cannot read \(url.path) to hash it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
