import BSNetEngine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ModelBundle {
    /// Writes a bundle: the weights (the tensors named in `order`, default all of the provider's)
    /// as canonical safetensors in `dtype` (tensors sorted by name, so the provider's order does not
    /// matter), and the manifest with its `weights` section filled in (content checksum, dtype, counts).
    /// Everything is written into a hidden temporary directory next to `directory` and renamed
    /// into place at the end, so a crash never leaves a half-written bundle. The result is
    /// reloaded through `load` (checked against `expecting`) before being returned.
    @discardableResult
    public static func write(to directory: URL, manifest: ModelManifest, weights: WeightProvider,
                             order: [String]? = nil, dtype: SafetensorsDType = .f32, overwrite: Bool = false,
                             expecting: [ExpectedTensor] = []) throws -> ModelBundle {
        let fm = FileManager.default
        let dest = directory.standardizedFileURL
        if fm.fileExists(atPath: dest.path) && !overwrite { throw ModelBundleError.destinationExists(directory: dest.path) }
        let names = order ?? weights.tensorNames
        var tensors: [(name: String, tensor: WeightTensor)] = []
        tensors.reserveCapacity(names.count)
        for name in names { tensors.append((name, try weights.tensor(named: name))) }
        let data: Data
        do {
            data = try SafetensorsFile.encode(tensors, dtype: dtype,
                                              metadata: ["architecture": manifest.architecture, "naming": "keras"])
        } catch let SafetensorsError.nonFiniteValue(tensor) {
            throw ModelBundleError.writeFailed(directory: dest.path, reason: "tensor '\(tensor)' has values outside the float16 range; store float32")
        }
        var manifest = manifest
        manifest.weights.file = weightsFileName
        // The bytes are the canonical serialization, so their hash is the content checksum.
        manifest.formatVersion = ModelManifest.currentFormatVersion
        manifest.weights.sha256 = sha256Hex(data)
        manifest.weights.dtype = dtype
        manifest.weights.tensorCount = tensors.count
        manifest.weights.parameterCount = tensors.reduce(0) { $0 + $1.tensor.values.count }

        let parent = dest.deletingLastPathComponent()
        let temp = parent.appendingPathComponent(".\(dest.lastPathComponent).tmp-\(UUID().uuidString)")
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            try fm.createDirectory(at: temp, withIntermediateDirectories: false)
            try data.write(to: temp.appendingPathComponent(weightsFileName))
            try manifest.encoded().write(to: temp.appendingPathComponent(manifestFileName))
            if fm.fileExists(atPath: dest.path) {
                // Move the old bundle aside first; it is removed only once the new one is in place.
                let old = parent.appendingPathComponent(".\(dest.lastPathComponent).old-\(UUID().uuidString)")
                try fm.moveItem(at: dest, to: old)
                do { try fm.moveItem(at: temp, to: dest) } catch {
                    try? fm.moveItem(at: old, to: dest)
                    throw error
                }
                try? fm.removeItem(at: old)
            } else {
                try fm.moveItem(at: temp, to: dest)
            }
        } catch {
            try? fm.removeItem(at: temp)
            throw ModelBundleError.writeFailed(directory: dest.path, reason: error.localizedDescription)
        }
        return try load(from: dest, expecting: expecting)
    }

    /// Replaces a bundle's model.json with `manifest` (same weights: refused if the weights section differs),
    /// written beside it and renamed over it, so a crash leaves the old or the new file, never half of one.
    public static func replaceManifest(in directory: URL, with manifest: ModelManifest) throws {
        let dest = directory.appendingPathComponent(manifestFileName)
        guard try loadManifest(from: directory).weights == manifest.weights else {
            throw ModelBundleError.writeFailed(directory: directory.path, reason: "the new model.json describes other weights")
        }
        let temp = directory.appendingPathComponent(".\(manifestFileName).tmp-\(UUID().uuidString)")
        do {
            try manifest.encoded().write(to: temp)
            // rename(2) replaces the old file atomically (Foundation's replaceItemAt removes it first on Linux).
            guard rename(temp.path, dest.path) == 0 else {
                throw ModelBundleError.writeFailed(directory: directory.path, reason: "rename: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw ModelBundleError.writeFailed(directory: directory.path, reason: error.localizedDescription)
        }
    }
}
