import ArgumentParser
import Foundation
import SyntheticHistory
import Store

/// Hidden developer tools: synthetic databases and the trend-latency benchmark (docs/performance.md).
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev", abstract: "Developer tools (benchmarks).", shouldDisplay: false,
        subcommands: [FillDB.self, BenchTrend.self, QualityEvalCommand.self])

    struct FillDB: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fill-db", abstract: "Add synthetic scored studies (patients SYN..., issuer SYNTHETIC).")

        @Option(help: "Database file (created if missing).") var db: String
        @Option(help: "Synthetic patients to add.") var patients = 10_000
        @Option(help: "Studies per patient.") var studiesPerPatient = 10
        @Option(help: "Random seed.") var seed: UInt64 = 1

        func run() throws {
            let store = try runReportingStoreErrors { try BrixiaStore(path: db) }
            let result = try store.fillSynthetic(patients: patients, studiesPerPatient: studiesPerPatient, seed: seed)
            print("added \(result.studies) studies for \(result.patients) patients in \(String(format: "%.1f", result.seconds)) s")
        }
    }

    struct BenchTrend: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-trend", abstract: "Median latency of the trend query over random synthetic patients.")

        @Option(help: "Database file filled by fill-db.") var db: String
        @Option(help: "Timed queries.") var runs = 200
        @Option(help: "Random seed for patient choice.") var seed: UInt64 = 7

        func run() throws {
            let store = try runReportingStoreErrors { try BrixiaStore.openExisting(path: db) }
            let total = try store.syntheticPatientCount()
            guard total > 0 else {
                throw CommandFailure(description: "database \(db) has no synthetic patients; run brixia dev fill-db first")
            }
            var rng = UInt64(seed)
            func nextIndex() -> Int {
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                return Int((rng >> 33) % UInt64(total)) + 1
            }
            _ = try store.trend(patientID: BrixiaStore.syntheticPatientID(1), issuer: BrixiaStore.syntheticIssuer)  // warm-up
            var samples = [Double]()
            var exams = 0
            for _ in 0..<runs {
                let id = BrixiaStore.syntheticPatientID(nextIndex())
                let start = DispatchTime.now().uptimeNanoseconds
                let trend = try store.trend(patientID: id, issuer: BrixiaStore.syntheticIssuer)
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                exams += trend.exams.count
            }
            // What one `brixia trend` invocation does besides process start-up: open (with the migration
            // check) and one query.
            var cold = [Double]()
            for _ in 0..<min(runs, 50) {
                let start = DispatchTime.now().uptimeNanoseconds
                let fresh = try BrixiaStore.openExisting(path: db)
                _ = try fresh.trend(patientID: BrixiaStore.syntheticPatientID(nextIndex()), issuer: BrixiaStore.syntheticIssuer)
                cold.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            cold.sort()
            print(String(format: "open + migration check + trend query over %d runs: median %.3f ms", cold.count, cold[cold.count / 2]))
            samples.sort()
            let median = samples[samples.count / 2]
            let p95 = samples[min(samples.count - 1, Int(Double(samples.count) * 0.95))]
            print(String(format: "trend query over %d runs (%d synthetic patients, %.1f exams each): median %.3f ms, p95 %.3f ms, max %.3f ms",
                         runs, total, Double(exams) / Double(max(1, runs)), median, p95, samples.last ?? 0))
        }
    }
}
