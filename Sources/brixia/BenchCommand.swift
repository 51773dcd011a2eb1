import ArgumentParser
import BSNetEngine
import Foundation
import ModelBundle

/// `brixia bench`: per-image latency of the engine (median after warm-up), achieved GFLOP/s,
/// per-stage split, peak RSS, and efficiency against a 1024^3 SGEMM measured in the same process
/// (before and after the timed runs, the better of the two).
/// Build with `swift run -c release brixia bench`; debug numbers are meaningless.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark BS-Net inference (seeded random weights unless --weights-h5 is given).")

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

    @Flag(help: "Print the slowest layers of the last run.")
    var profile = false

    /// Nominal model cost: 94,173,835,084 multiply-adds (Keras count, transposed convs counted densely).
    static let modelGFLOP = 2 * 94_173_835_084.0 / 1e9

    func validate() throws {
        guard winogradTile == 2 || winogradTile == 4 else { throw ValidationError("--winograd-tile must be 2 or 4") }
        guard runs >= 1, warmup >= 0 else { throw ValidationError("--runs must be >= 1 and --warmup >= 0") }
        guard !threadCounts.isEmpty, threadCounts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--threads must list positive integers, e.g. 1,2") }
    }

    var threadCounts: [Int] { threads.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        print("BS-Net engine benchmark: 512x512, batch 1, \(Self.modelGFLOP.formatted(digits: 2)) GFLOP nominal per image")
        print("OpenBLAS: \(Blas.config) (core \(Blas.coreName)); \(ProcessInfo.processInfo.activeProcessorCount) CPUs visible")
        let weights: WeightProvider = try weightsH5.map { try KerasWeightsFile(path: $0) } ?? SeededWeights(seed: 20_260_101)
        print("weights: \(weightsH5 ?? "seeded random (SeededWeights seed 20260101)")")
        BSNet.useWinograd = !noWinograd
        BSNet.winogradTile = winogradTile
        print("3x3 convs: \(noWinograd ? "im2col + SGEMM" : "Winograd F(\(winogradTile)x\(winogradTile),3x3) where cin, cout >= 16")"
              + "; transposed convs: sub-pixel\(noWinograd ? " GEMMs" : ", Winograd F(2x2,2x2) where cout >= 128")")
        print("threads: the engine's own worker pool (OpenBLAS single-threaded inside it); the reference SGEMM uses OpenBLAS's threads")
        var rng = SplitMix64(7)
        let image = (0..<(512 * 512)).map { _ in rng.uniform() }

        for t in threadCounts {
            let sgemmBefore = Self.sgemmGFLOPS(threads: t)
            let net = try BSNet(weights: weights, threads: t)
            for _ in 0..<warmup { _ = try net.run(image) }
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
            if profile {
                for (name, sec) in net.lastLayerTimings.sorted(by: { $0.seconds > $1.seconds }).prefix(15) {
                    print("    \(name): \(sec.formatted(digits: 4)) s")
                }
            }
            print("  arena \(net.arenaBytes / (1 << 20)) MiB; peak RSS so far \(Self.peakRSSMiB()) MiB")
        }
        print("")
        print("peak RSS \(Self.peakRSSMiB()) MiB (whole process, includes weights)")
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

    /// Best of 5 batches of 3 multiplications of 1024x1024 matrices.
    static func sgemmGFLOPS(threads: Int) -> Double {
        Blas.setThreads(threads)
        let n = 1024
        var rng = SplitMix64(1)
        let a = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }, b = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }
        var c = [Float](repeating: 0, count: n * n)
        var best = 0.0
        for _ in 0..<5 {
            let start = Date()
            for _ in 0..<3 { Blas.multiply(m: n, n: n, k: n, a: a, b: b, c: &c) }
            best = max(best, 3 * 2 * Double(n * n * n) / Date().timeIntervalSince(start) / 1e9)
        }
        return best
    }
}

private extension Double {
    func formatted(digits: Int) -> String { String(format: "%.\(digits)f", self) }
}
