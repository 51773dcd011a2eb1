import BrixiaDomain
import ArgumentParser
import BSNetEngine
import Foundation
import ModelBundle

/// `brixia bench`: per-image latency of the engine (median after warm-up), achieved GFLOP/s,
/// per-stage split, peak RSS, and efficiency against OpenBLAS's 1024^3 SGEMM measured in the same
/// process (before and after the timed runs, the better of the two). That OpenBLAS figure depends on
/// OPENBLAS_CORETYPE; the engine's own kernels do not (scripts/bench-vs-keras.sh measures the
/// machine's best SGEMM with the variables unset, `--sgemm-only`). `--serve` lets a driver time one
/// image per request, interleaved with other runtimes.
/// Build with `swift run -c release brixia bench`; debug numbers are meaningless.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark BS-Net inference (seeded random weights unless --weights-h5 is given).",
        discussion: """
            Examples:
              brixia bench --threads 1,2 --runs 5
              brixia bench --profile --threads 2
            """)

    @Option(help: "Comma-separated OpenBLAS thread counts.")
    var threads: String = "1,2"

    @Option(help: "Timed runs per thread count (median reported; at least 5 recommended).")
    var runs: Int = 5

    @Option(help: "Untimed warm-up runs per thread count.")
    var warmup: Int = 2

    @Option(name: .customLong("weights-h5"), help: "Optional Keras h5 weights instead of seeded random ones.")
    var weightsH5: String?

    @Flag(help: "Use im2col + SGEMM for every conv and plain sub-pixel GEMMs for the transposed convs (no Winograd), for comparison.")
    var noWinograd = false

    @Option(name: .customLong("winograd-tile"), help: "Winograd output tile for the 3x3 convs: 4 = F(4x4,3x3) (default), 2 = F(2x2,3x3).")
    var winogradTile: Int = 4

    @Flag(help: "Print the last run's time by kind of layer and its slowest layers.")
    var profile = false

    @Option(help: "Kernel set for the engine's SGEMM: avx512, avx2 or generic (default: the best this CPU has).")
    var kernels: String?

    @Flag(name: .customLong("sgemm-only"), help: "Only measure the 1024^3 SGEMM (OpenBLAS with --threads, and the engine's kernels on one thread), then exit.")
    var sgemmOnly = false

    @Flag(name: .customLong("readout-cost"), help: "Time a plain run against the readout with test-time mirroring (median decision, image also run flipped; model.json 'readout'), interleaved in this process, and print both medians and their ratio.")
    var readoutCost = false

    @Flag(name: .customLong("ensemble-cost"), help: "Time one score head against two on the same trunk (model.json 'scoreHeads' 2: the second head's probabilities averaged in), interleaved in this process, and print both medians and their ratio.")
    var ensembleCost = false

    @Flag(help: "For benchmark drivers: build the network with the first --threads count, run the warm-ups, print 'ready', then for each line 'run' on stdin time one image and print 'time SECONDS'; at end of input print 'rss MIB' (peak RSS).")
    var serve = false

    /// Nominal model cost: 94,173,835,084 multiply-adds (Keras count, transposed convs counted densely).
    static let modelGFLOP = 2 * 94_173_835_084.0 / 1e9

    func validate() throws {
        guard winogradTile == 2 || winogradTile == 4 else { throw ValidationError("--winograd-tile must be 2 or 4") }
        guard runs >= 1, warmup >= 0 else { throw ValidationError("--runs must be >= 1 and --warmup >= 0") }
        guard !threadCounts.isEmpty, threadCounts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--threads must list positive integers, e.g. 1,2") }
        if let kernels, Kernels.ISA(name: kernels) == nil { throw ValidationError("--kernels must be avx512, avx2 or generic") }
    }

    var threadCounts: [Int] { threads.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        if let name = kernels, let isa = Kernels.ISA(name: name) {
            let got = Kernels.select(isa)
            if got != isa { print("note: --kernels \(name) is not supported by this CPU; using \(got)") }
        }
        if sgemmOnly { return runSgemmOnly() }
        if serve { return try runServe() }
        print("BS-Net engine benchmark: 512x512, batch 1, \(Self.modelGFLOP.formatted(digits: 2)) GFLOP nominal per image")
        print("OpenBLAS: \(Blas.config) (core \(Blas.coreName)); \(ProcessInfo.processInfo.activeProcessorCount) CPUs visible")
        let weights: WeightProvider = try weightsH5.map { try KerasWeightsFile(path: $0) } ?? SeededWeights(seed: 20_260_101)
        print("weights: \(weightsH5 ?? "seeded random (SeededWeights seed 20260101)")")
        print("3x3 convs: \(noWinograd ? "im2col + SGEMM" : "Winograd F(\(winogradTile)x\(winogradTile),3x3) where cin, cout >= 16")"
              + "; transposed convs: sub-pixel\(noWinograd ? " GEMMs" : ", Winograd F(2x2,2x2) where cout >= 128")")
        print("engine SGEMM kernels: \(Kernels.active) (CPU supports \(Kernels.detected); OPENBLAS_CORETYPE does not affect them)")
        print("threads: the engine's own worker pool; the reference SGEMM is OpenBLAS's, on its own threads")
        var rng = SplitMix64(7)
        let image = (0..<(512 * 512)).map { _ in rng.uniform() }

        for t in threadCounts {
            // The reference SGEMM before and after the timed runs (not needed for --readout-cost's ratio).
            let sgemmBefore = readoutCost || ensembleCost ? 0 : Self.sgemmGFLOPS(threads: t)
            let net = try BSNet(weights: weights, threads: t, kernels: kernelOptions)
            for _ in 0..<warmup { _ = try net.run(image) }
            if ensembleCost {
                // The second head: the score-head tensors again under "head1/" (any values cost the same).
                var withHead = [(name: String, tensor: WeightTensor)]()
                for name in weights.tensorNames { withHead.append((name, try weights.tensor(named: name))) }
                for name in BSNet.scoreHeadTensorNames {
                    withHead.append((BSNetArchitecture.headPrefix(1) + name, try weights.tensor(named: name)))
                }
                let two = try BSNet(weights: InMemoryWeights(withHead), threads: t, kernels: kernelOptions)
                for _ in 0..<warmup { _ = try two.run(image) }
                var single: [Double] = [], double: [Double] = [], heads1: [Double] = [], heads2: [Double] = []
                for _ in 0..<runs {
                    var start = Date()
                    let a = try net.run(image)
                    single.append(Date().timeIntervalSince(start)); heads1.append(a.stageTimings.head)
                    start = Date()
                    let b = try two.run(image)
                    double.append(Date().timeIntervalSince(start)); heads2.append(b.stageTimings.head)
                }
                let (a, b) = (Self.median(single), Self.median(double))
                print("")
                print("threads \(t): one score head median \(a.formatted(digits: 3)) s (head stage \(Self.median(heads1).formatted(digits: 3)) s); two heads median \(b.formatted(digits: 3)) s (head stage \(Self.median(heads2).formatted(digits: 3)) s); ratio \((b / a).formatted(digits: 3)) (\(runs) interleaved pairs after \(warmup) warm-up)")
                continue
            }
            if readoutCost {
                // Interleaved so that load changes on a shared machine hit both alike.
                let mirrored = Readout(decision: .median, mirrorAverage: true)
                var plain: [Double] = [], mirror: [Double] = []
                for _ in 0..<runs {
                    var start = Date()
                    _ = try net.run(image)
                    plain.append(Date().timeIntervalSince(start))
                    start = Date()
                    _ = try net.run(image, readout: mirrored)
                    mirror.append(Date().timeIntervalSince(start))
                }
                let (a, b) = (Self.median(plain), Self.median(mirror))
                print("")
                print("threads \(t): plain run median \(a.formatted(digits: 3)) s; readout median + mirror median \(b.formatted(digits: 3)) s; ratio \((b / a).formatted(digits: 2)) (\(runs) interleaved pairs after \(warmup) warm-up)")
                continue
            }
            var totals: [Double] = [], stages: [StageTimings] = []
            for _ in 0..<runs {
                let start = Date()
                let out = try net.run(image)
                totals.append(Date().timeIntervalSince(start))
                stages.append(out.stageTimings)
            }
            // SGEMM again after the timed runs: on a shared machine the load can change during the
            // runs; the better of the two (the conservative choice for the ratio) is the reference.
            let sgemmAfter = Self.sgemmGFLOPS(threads: t)
            let sgemm = max(sgemmBefore, sgemmAfter)
            let latency = Self.median(totals)
            let gflops = Self.modelGFLOP / latency
            print("")
            print("threads \(t): latency median \(latency.formatted(digits: 3)) s (min \(totals.min()!.formatted(digits: 3)), max \(totals.max()!.formatted(digits: 3)), \(runs) runs after \(warmup) warm-up)")
            print("  stages (median s): encoder \(Self.median(stages.map(\.encoder)).formatted(digits: 3)), decoder \(Self.median(stages.map(\.decoder)).formatted(digits: 3)), stn \(Self.median(stages.map(\.stn)).formatted(digits: 4)), head \(Self.median(stages.map(\.head)).formatted(digits: 3))")
            print("  achieved \(gflops.formatted(digits: 1)) GFLOP/s; SGEMM 1024^3 best \(sgemm.formatted(digits: 1)) GFLOP/s (before \(sgemmBefore.formatted(digits: 1)), after \(sgemmAfter.formatted(digits: 1))); efficiency \((gflops / sgemm).formatted(digits: 2))")
            if profile { Self.printProfile(net.lastLayerProfile) }
            print("  arena \(net.arenaBytes / (1 << 20)) MiB; peak RSS so far \(Self.peakRSSMiB()) MiB")
        }
        print("")
        print("peak RSS \(Self.peakRSSMiB()) MiB (whole process, includes weights)")
    }

    /// Time of the last run by kind of layer (largest first), then its 15 slowest layers.
    static func printProfile(_ layers: [LayerTiming]) {
        let total = layers.reduce(0) { $0 + $1.seconds }
        print("  profile of the last run (wall clock, \(total.formatted(digits: 3)) s in layers):")
        var byKind: [String: (seconds: Double, count: Int)] = [:]
        for l in layers { byKind[l.kind, default: (0, 0)].seconds += l.seconds; byKind[l.kind]!.count += 1 }
        for (kind, v) in byKind.sorted(by: { $0.value.seconds > $1.value.seconds }) {
            print("    \(kind) (\(v.count) layers): \(v.seconds.formatted(digits: 4)) s, \((100 * v.seconds / total).formatted(digits: 1)) %")
        }
        print("  slowest layers:")
        for l in layers.sorted(by: { $0.seconds > $1.seconds }).prefix(15) {
            print("    \(l.name) [\(l.kind); \(l.detail)]: \(l.seconds.formatted(digits: 4)) s")
        }
    }

    func runSgemmOnly() {
        print("OpenBLAS: \(Blas.config) (core \(Blas.coreName))")
        for t in threadCounts {
            print("sgemm openblas threads \(t): \(Self.sgemmGFLOPS(threads: t).formatted(digits: 1)) GFLOP/s")
        }
        print("sgemm engine-kernels (\(Kernels.active)) threads 1: \(Self.sgemmGFLOPS(threads: 1, engineKernels: true).formatted(digits: 1)) GFLOP/s")
    }

    /// One image per "run" line, for drivers that interleave several runtimes (scripts/bench-vs-keras.sh).
    var kernelOptions: BSNet.KernelOptions { BSNet.KernelOptions(winograd: !noWinograd, winogradTile: winogradTile) }

    func runServe() throws {
        let weights: WeightProvider = try weightsH5.map { try KerasWeightsFile(path: $0) } ?? SeededWeights(seed: 20_260_101)
        let net = try BSNet(weights: weights, threads: threadCounts[0], kernels: kernelOptions)
        var rng = SplitMix64(7)
        let image = (0..<(512 * 512)).map { _ in rng.uniform() }
        for _ in 0..<warmup { _ = try net.run(image) }
        print("ready kernels=\(Kernels.active) openblas=\(Blas.coreName)")
        fflush(nil)   // all C streams: the `stdout` global is not concurrency-safe to name in Swift 6
        while let line = readLine() {
            guard line.trimmingCharacters(in: .whitespaces) == "run" else { continue }
            let start = Date()
            _ = try net.run(image)
            print("time \(Date().timeIntervalSince(start))")
            if profile { Self.printProfile(net.lastLayerProfile) }
            fflush(nil)   // all C streams: the `stdout` global is not concurrency-safe to name in Swift 6
        }
        print("rss \(Self.peakRSSMiB())")
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func peakRSSMiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss / 1024   // Linux reports KiB
    }

    /// Best of 5 batches of 3 multiplications of 1024x1024 matrices (OpenBLAS, or the engine's kernels).
    static func sgemmGFLOPS(threads: Int, engineKernels: Bool = false) -> Double {
        Blas.setThreads(threads)
        let n = 1024
        var rng = SplitMix64(1)
        let a = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }, b = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }
        var c = [Float](repeating: 0, count: n * n)
        var best = 0.0
        for _ in 0..<5 {
            let start = Date()
            for _ in 0..<3 {
                if engineKernels { Kernels.multiply(m: n, n: n, k: n, a: a, b: b, c: &c) } else { Blas.multiply(m: n, n: n, k: n, a: a, b: b, c: &c) }
            }
            best = max(best, 3 * 2 * Double(n * n * n) / Date().timeIntervalSince(start) / 1e9)
        }
        return best
    }
}

private extension Double {
    func formatted(digits: Int) -> String { String(format: "%.\(digits)f", self) }
}
