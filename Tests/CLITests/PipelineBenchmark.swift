#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Store
import Testing

/// End-to-end throughput (not a test; docs/performance.md, "Pipeline"). Enabled with
/// BRIXIA_BENCH=1; BRIXIA_BIN should point at a release build. Runs `brixia run --once` pinned to
/// two cores (taskset) over N generated studies (2048x2048 12-bit DX, like real CXRs) and reports
/// studies/hour and the share of wall time spent outside the network.
@Suite struct PipelineBenchmark {
    static var enabled: Bool { ProcessInfo.processInfo.environment["BRIXIA_BENCH"] == "1" }

    @Test(.enabled(if: PipelineBenchmark.enabled, "benchmark: set BRIXIA_BENCH=1 (and BRIXIA_BIN to a release build)"),
          .timeLimit(.minutes(60)))
    func throughputOnTwoCores() throws {
        let n = Int(ProcessInfo.processInfo.environment["BRIXIA_BENCH_STUDIES"] ?? "50") ?? 50
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        var template = DicomFixture(study: "\(E2E.root).50", sop: "\(E2E.root).50.0")
        template.size = 2048
        let pixels = template.pixels()
        for i in 1...n {
            let st = "\(E2E.root).50.\(i)"
            var f = DicomFixture(study: st, sop: "\(st).1")
            f.size = 2048; f.pixelData = pixels; f.patientID = "BENCH-\(i % 10)"
            f.studyDate = String(format: "202003%02d", 1 + i % 28)
            try f.write(to: w.url("inbox/\(st)/DX.\(st).1"))
        }
        guard let bin = Brixia.binary else { throw CLIError("brixia executable not found") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        p.arguments = ["-c", "0,1", bin.path, "run", "--once", "--work-dir", w.root.path, "--model", model.path,
                       "--threads", "2", "--log-level", "warning"]
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BRIXIA_") }
        env["BRIXIA_ALLOW_TEST_FIXTURE"] = "1"
        p.environment = env
        let t0 = Date()
        try p.run(); p.waitUntilExit()
        let wall = Date().timeIntervalSince(t0)
        #expect(p.terminationStatus == 0)
        let store = try BrixiaStore.openExisting(path: w.url("brixia.sqlite").path)
        var network = 0.0, decode = 0.0, done = 0
        for i in 1...n {
            guard let a = try store.analyses(studyInstanceUID: "\(E2E.root).50.\(i)").first else { continue }
            done += 1
            network += (a.timingsMS["network"] ?? 0) / 1000
            decode += (a.timingsMS["decode+preprocess"] ?? 0) / 1000
        }
        let line = String(format: "PIPELINE-BENCH studies=%d processed=%d wall=%.1fs studies/hour=%.0f network=%.1fs decode+preprocess=%.1fs outside-network=%.1f%%",
                          n, done, wall, Double(done) / wall * 3600, network, decode, (wall - network) / wall * 100)
        print(line)
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("brixia-pipeline-bench.txt"))
        #expect(done == n)
    }
}
