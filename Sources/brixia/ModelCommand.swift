import ArgumentParser
import BSNetEngine
import Foundation
import ModelBundle

/// `brixia model ...`: import the authors' Keras weights into a model bundle, show and verify bundles.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Create, inspect and verify model bundles (model.json + weights.safetensors).",
        subcommands: [ImportKeras.self, Info.self, Verify.self]
    )

    static let toolVersion = "0.1.0"

    /// Every tensor of the full score model (352), from the engine's architecture description.
    static var expectedTensors: [ExpectedTensor] { BSNetSignature.tensors }

    /// Prints a clear message on stderr and exits 1 (ArgumentParser would add usage text).
    static func fail(_ error: Error) -> ExitCode {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        return ExitCode(1)
    }

    struct ImportKeras: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-keras",
            abstract: "Import Keras-2 save_weights h5 files (score model, optionally segmentation/alignment first) into a bundle.",
            discussion: "Files are applied in order, later ones overriding earlier ones (as successive load_weights calls do). " +
                "Tensors keep their Keras names and layouts; values are copied unchanged (float32) or rounded to float16 with --float16."
        )
        @Argument(help: "Keras weights h5 files, e.g. bscore-model.h5.") var files: [String]
        @Option(name: .long, help: "Bundle directory to create.") var out: String
        @Option(name: .long, help: "Model name recorded in model.json and every report.") var name = "bsnet"
        @Option(name: .long, help: "Model version recorded in model.json and every report.") var version = "unversioned"
        @Option(name: .long, help: "Licence of the weights.") var licence = "unspecified: see the terms of the source weights"
        @Flag(name: .long, help: "Store weights as float16 (half the size; values rounded).") var float16 = false
        @Flag(name: .long, help: "Replace an existing bundle at --out.") var overwrite = false

        func run() throws {
            do {
                var sources: [ModelManifest.SourceFile] = []
                print("reading \(files.joined(separator: ", "))")
                // Names first; a file whose names carry other counters is matched as Keras loads it, by position.
                let weights = try KerasWeightsFile(paths: files, matching: BSNetKerasLayout.scoreModel(shapes: ModelCommand.expectedTensors))
                for (path, info) in zip(files, weights.sources) {
                    let url = URL(fileURLWithPath: path)
                    let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                    sources.append(.init(name: url.lastPathComponent, sha256: try ModelBundle.sha256Hex(ofFile: url),
                                         bytes: bytes, kerasVersion: info.kerasVersion, backend: info.backend,
                                         matchedBy: info.rule, renamedGroups: info.renamedGroups.isEmpty ? nil : info.renamedGroups))
                    print("  \(url.lastPathComponent): \(info.tensorCount) tensors in \(info.layerCount) layers (Keras \(info.kerasVersion ?? "?"), \(info.backend ?? "?"))")
                    if info.rule == .position {
                        print("    names do not match BS-Net's; matched by position as Keras' load_weights does, every shape equal")
                        if !info.renamedGroups.isEmpty {
                            print("    \(info.renamedGroups.count) groups renamed: \(info.renamedGroups.map(\.description).joined(separator: ", "))")
                        }
                    }
                }
                if !weights.overriddenWithDifferentValues.isEmpty {
                    print("  note: \(weights.overriddenWithDifferentValues.count) tensors differ between files; the later file's values were used")
                }
                print("checking BS-Net tensors")
                try weights.check(against: ModelCommand.expectedTensors)
                let manifest = ModelManifest(
                    name: name, version: version, licence: licence,
                    provenance: .init(sources: sources, tool: "brixia model import-keras", toolVersion: ModelCommand.toolVersion,
                                      notes: float16 ? "values rounded from float32 to float16 on import" : "float32 values copied unchanged"))
                print("writing \(out)\(float16 ? " (float16)" : "")")
                let bundle = try ModelBundle.write(to: URL(fileURLWithPath: out), manifest: manifest, weights: weights,
                                                   dtype: float16 ? .f16 : .f32, overwrite: overwrite,
                                                   expecting: ModelCommand.expectedTensors)
                let w = bundle.manifest.weights
                print("done: \(w.tensorCount) tensors, \(w.parameterCount) parameters, \(w.dtype.rawValue)")
                print("weights SHA-256: \(w.sha256)")
                print("bundle: \(bundle.directory.path)")
            } catch {
                throw ModelCommand.fail(error)
            }
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a bundle's manifest (the weights checksum is checked).")
        @Argument(help: "Bundle directory.") var directory: String
        @Flag(name: .long, help: "Print model.json as JSON.") var json = false
        @Flag(name: .long, help: "List every tensor with its shape.") var tensors = false

        func run() throws {
            let bundle: ModelBundle
            do { bundle = try ModelBundle.load(from: URL(fileURLWithPath: directory), expecting: []) } catch {
                throw ModelCommand.fail(error)
            }
            let m = bundle.manifest
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try enc.encode(m), as: UTF8.self))
            } else {
                if m.isTestFixture { print("WARNING: random test fixture, not a trained model") }
                print("name:          \(m.name)")
                print("version:       \(m.version)")
                print("architecture:  \(m.architecture) (input \(m.inputSize)x\(m.inputSize)x\(m.inputChannels))")
                print("preprocessing: \(m.preprocessing)")
                print("outputs:       \(m.outputs)")
                print("licence:       \(m.licence)")
                print("intended use:  \(m.intendedUse)")
                print("weights:       \(m.weights.file), \(m.weights.tensorCount) tensors, \(m.weights.parameterCount) parameters, \(m.weights.dtype.rawValue)")
                print("weights SHA-256: \(m.weights.sha256) (checked; \(m.checksumRule))")
                print("created:       \(m.provenance.createdAt) by \(m.provenance.tool) \(m.provenance.toolVersion)")
                for s in m.provenance.sources {
                    print("source:        \(s.name) sha256 \(s.sha256) (\(s.bytes) bytes, Keras \(s.kerasVersion ?? "?"))")
                    switch s.matchedBy {
                    case .position?: print("  matched by:  position (Keras' load_weights rule; the file's names differ from BS-Net's)")
                    case .names?: print("  matched by:  names")
                    case nil: break
                    }
                    for r in s.renamedGroups ?? [] { print("  renamed:     \(r)") }
                }
                if let notes = m.provenance.notes { print("notes:         \(notes)") }
                let heads = m.scoreHeads ?? 1
                print("score heads:   \(heads)\(heads > 1 ? " sharing the trunk, probabilities averaged (an ensemble)" : "")")
                let r = m.engineReadout
                print("readout:       \(r.decision.rawValue) grade per zone\(r.mirrorAverage ? ", averaged with the mirrored image (two forward passes)" : "")\(m.readout == nil ? " (default)" : "")")
                if let c = m.calibration { print("calibration:   temperature \(c.temperature)\(c.lowConfidenceBelow.map { ", low confidence below \($0)" } ?? "")") }
                if let q = m.qualityCheck {
                    print("content check: bounds derived for this model from \(q.derivedFrom)\(q.leaveOneOut.map { "; leave-one-out \($0)" } ?? "")")
                } else {
                    print("content check: the built-in bounds (derived for the shipped \(DefaultModel.folderName); docs/quality-check.md says how to derive a model's own)")
                }
                if let t = m.training {
                    print("training data: \(t.data)")
                    print("data licence:  \(t.dataLicence)")
                    print("recipe:        \(t.recipe)")
                    for line in t.evaluation { print("evaluation:    \(line)") }
                }
            }
            if tensors {
                for name in bundle.weights.tensorNames {
                    let shape = (try? bundle.weights.tensor(named: name).shape) ?? []
                    print("\(name) \(shape)")
                }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-hash the weights and check every tensor (presence, dtype, shape, finite values).")
        @Argument(help: "Bundle directory.") var directory: String

        func run() throws {
            do {
                let bundle = try ModelBundle.load(from: URL(fileURLWithPath: directory), expecting: ModelCommand.expectedTensors)
                try bundle.verifyValues()
                let w = bundle.manifest.weights
                if bundle.manifest.isTestFixture { print("WARNING: random test fixture, not a trained model") }
                print("OK: \(bundle.manifest.name) \(bundle.manifest.version): \(w.tensorCount) tensors, \(w.parameterCount) parameters, \(w.dtype.rawValue), SHA-256 \(w.sha256)")
                if bundle.manifest.formatVersion < 2, let content = bundle.contentSHA256() {
                    // Old bundles keep verifying; say what a re-import records now, so a changed hash is expected.
                    print("note: formatVersion 1 bundle: its SHA-256 is of the whole file; the content checksum of these weights " +
                          "(what an import or export records now, docs/model-bundle.md) is \(content)")
                }
            } catch {
                throw ModelCommand.fail(error)
            }
        }
    }
}
