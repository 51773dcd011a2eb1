import TextSafety
import BSNetEngine
import Foundation
@testable import ModelBundle
import Testing

/// The weights checksum depends only on content (docs/model-bundle.md, "Weights checksum").
@Suite struct ContentChecksumTests {
    /// The spec's worked example (docs/model-bundle.md): uppercase, '_' and lowercase keys sort by
    /// code point, '/' is not escaped. The SHA-256 was computed independently with Python's
    /// json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False); the training tests
    /// check the Python exporter against the same value.
    static let example = [("b/kernel", WeightTensor(shape: [2], values: [1, -2])), ("B/bias", WeightTensor(shape: [1], values: [0.5]))]
    static let exampleHeader = #"{"B/bias":{"data_offsets":[0,4],"dtype":"F32","shape":[1]},"__metadata__":{"architecture":"demo/1"},"b/kernel":{"data_offsets":[4,12],"dtype":"F32","shape":[2]}}"#
    static let exampleSHA256 = "e89b837fe610b534df23e77a168fb75402245c5295db779a791cccc1043235f9"

    @Test func writerProducesTheSpecsBytes() throws {
        let data = try SafetensorsFile.encode(Self.example.map { (name: $0.0, tensor: $0.1) }, dtype: .f32, metadata: ["architecture": "demo/1"])
        var expected = Data([168, 0, 0, 0, 0, 0, 0, 0]) + Data(Self.exampleHeader.utf8) + Data(repeating: 0x20, count: 7)
        expected += Data([0, 0, 0, 0x3F, 0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])  // 0.5, then 1, -2 (little-endian float32)
        #expect(data == expected)
        #expect(ModelBundle.sha256Hex(data) == Self.exampleSHA256)
        #expect(try SafetensorsFile(data: data, source: "x").canonicalSHA256() == Self.exampleSHA256)
    }

    @Test func jsonStringsEscapeLikePython() {
        #expect(SafeText.jsonString("a/b\"c\\d\n\u{01}\u{1F}\u{08}é") == #""a/b\"c\\d\n\u0001\u001f\bé""#)
        #expect(SafetensorsFile.canonicalOrder(["b", "_x", "B", "a", "é", "Z"]) == ["B", "Z", "_x", "a", "b", "é"])
    }

    @Test func sourceOrderDoesNotChangeTheChecksum() throws {
        let dir = try makeTempDir("sum"); defer { try? FileManager.default.removeItem(at: dir) }
        let forward = InMemoryWeights(ModelBundleTests.small.tensorNames.map { ($0, try! ModelBundleTests.small.tensor(named: $0)) })
        let backward = InMemoryWeights(forward.tensorNames.reversed().map { ($0, try! forward.tensor(named: $0)) })
        let a = try ModelBundle.write(to: dir.appendingPathComponent("a"), manifest: ModelBundleTests.manifest, weights: forward)
        let b = try ModelBundle.write(to: dir.appendingPathComponent("b"), manifest: ModelBundleTests.manifest, weights: backward)
        #expect(a.manifest.weights.sha256 == b.manifest.weights.sha256)
        #expect(a.manifest.formatVersion == 2)
        let bytesA = try Data(contentsOf: a.directory.appendingPathComponent(ModelBundle.weightsFileName))
        #expect(bytesA == (try Data(contentsOf: b.directory.appendingPathComponent(ModelBundle.weightsFileName))))
        // A Brixia-written file is the canonical serialization: its own hash is the checksum.
        #expect(ModelBundle.sha256Hex(bytesA) == a.manifest.weights.sha256)
    }

    /// The same tensors in another data order, with Foundation's JSON (pretty, its own key order,
    /// '\/' escapes) and other padding: another file hash, the same content checksum.
    static func respelled(_ data: Data) throws -> Data {
        let file = try SafetensorsFile(data: data, source: "x")
        var header: [String: Any] = ["__metadata__": file.metadata]
        var blob = Data()
        let start = 8 + data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        for name in file.tensorNames.reversed() {
            let e = file.entries[name]!
            header[name] = ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [blob.count, blob.count + e.end - e.begin]] as [String: Any]
            blob += data.subdata(in: (start + e.begin)..<(start + e.end))
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.prettyPrinted])
        json += Data(repeating: 0x20, count: 3)
        var length = UInt64(json.count).littleEndian
        return Data(bytes: &length, count: 8) + json + blob
    }

    @Test func jsonSpellingAndDataOrderDoNotChangeTheChecksum() throws {
        let dir = try makeTempDir("sum"); defer { try? FileManager.default.removeItem(at: dir) }
        let b = try ModelBundle.write(to: dir.appendingPathComponent("b"), manifest: ModelBundleTests.manifest, weights: ModelBundleTests.small)
        let wURL = b.directory.appendingPathComponent(ModelBundle.weightsFileName)
        let original = try Data(contentsOf: wURL)
        let other = try Self.respelled(original)
        #expect(other != original)
        #expect(ModelBundle.sha256Hex(other) != b.manifest.weights.sha256)
        #expect(try SafetensorsFile(data: other, source: "x").tensorNames == ["dense/kernel", "conv0/kernel", "bn0/gamma"])
        try other.write(to: wURL)
        // The manifest is untouched and still verifies: the checksum is of the content.
        let reloaded = try ModelBundle.load(from: b.directory, expecting: ModelBundleTests.specs)
        #expect(reloaded.manifest.weights.sha256 == b.manifest.weights.sha256)
        #expect(reloaded.contentSHA256() == b.manifest.weights.sha256)
        // ...and any change of content is still caught.
        var changed = other
        changed[changed.count - 1] ^= 0x01
        try changed.write(to: wURL)
        let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: b.directory, expecting: []) }
        guard case let .checksumMismatch(_, expected, found)? = e else { Issue.record("wrong error \(String(describing: e))"); return }
        #expect(expected == b.manifest.weights.sha256)
        #expect(found == (try SafetensorsFile(data: changed, source: "x").canonicalSHA256()))
    }

    @Test func formatVersion1BundlesKeepVerifyingByWholeFileHash() throws {
        let dir = try makeTempDir("sum"); defer { try? FileManager.default.removeItem(at: dir) }
        let b = try ModelBundle.write(to: dir.appendingPathComponent("b"), manifest: ModelBundleTests.manifest, weights: ModelBundleTests.small)
        let wURL = b.directory.appendingPathComponent(ModelBundle.weightsFileName)
        let mURL = b.directory.appendingPathComponent(ModelBundle.manifestFileName)
        let old = try Self.respelled(try Data(contentsOf: wURL))  // an old writer's layout
        try old.write(to: wURL)
        var m = b.manifest
        m.formatVersion = 1
        m.weights.sha256 = ModelBundle.sha256Hex(old)
        try m.encoded().write(to: mURL)
        let legacy = try ModelBundle.load(from: b.directory, expecting: ModelBundleTests.specs)
        #expect(legacy.manifest.checksumRule.contains("formatVersion 1"))
        #expect(legacy.contentSHA256() == b.manifest.weights.sha256)
        // A version-1 manifest holding the content checksum is a mismatch: the rule is the version's.
        m.weights.sha256 = b.manifest.weights.sha256
        try m.encoded().write(to: mURL)
        #expect(throws: ModelBundleError.checksumMismatch(file: wURL.path, expected: m.weights.sha256, found: ModelBundle.sha256Hex(old))) {
            try ModelBundle.load(from: b.directory, expecting: [])
        }
    }

    @Test func theShippedModelVerifies() throws {
        let dir = SharedData.repoRoot.appendingPathComponent("models/\(DefaultModel.folderName)")
        let specs = BSNet.tensorSpecs.map { ExpectedTensor(name: $0.name, shape: $0.shape) }
        let b = try ModelBundle.load(from: dir, expecting: specs)
        #expect(b.manifest.formatVersion == 2)
        // Every score head it holds (1.0: two) is declared and complete.
        #expect(b.manifest.weights.tensorCount == (try BSNet.tensorSpecs(scoreHeads: b.manifest.scoreHeads ?? 1)).count)
        // Written by the exporter in the canonical layout: the file's own hash is its content checksum.
        let fileHash = try ModelBundle.sha256Hex(ofFile: dir.appendingPathComponent(ModelBundle.weightsFileName))
        #expect(fileHash == b.manifest.weights.sha256)
        #expect(b.contentSHA256() == b.manifest.weights.sha256)
    }
}
