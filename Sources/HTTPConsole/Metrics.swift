import DicomNetwork
import Foundation
import Hummingbird
import Prometheus
import Store

/// Prometheus text exposition, read from the store at scrape time (so it survives restarts and counts
/// what `run --once` did too). No patient data: counts, durations and destination names only.
extension ConsoleServer {
    static let latencyBuckets: [Double] = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600]

    func metrics() -> Response {
        let registry = PrometheusCollectorRegistry()
        do {
            let q = try store.queueStatus(maxFailures: 0)
            let c = { (state: String) in Int64(q.counts[state] ?? 0) }
            registry.makeCounter(name: "brixia_studies_processed_total", help: "Studies scored and reported (job state done).")
                .increment(by: c("done"))
            registry.makeCounter(name: "brixia_studies_failed_total", help: "Studies whose job failed (retry with brixia retry or the console).")
                .increment(by: c("failed"))
            registry.makeCounter(name: "brixia_studies_quarantined_total", help: "Studies quarantined (their input cannot be reported).")
                .increment(by: c("quarantined"))
            registry.makeCounter(name: "brixia_files_quarantined_total", help: "Input files set aside at intake, with a reason file.")
                .increment(by: Int64(q.quarantinedFiles))
            for (state, n) in q.counts.sorted(by: { $0.key < $1.key }) {
                registry.makeGauge(name: "brixia_jobs", labels: [("state", state)], help: "Jobs per state (queue depth).").set(to: Double(n))
            }
            let h = registry.makeValueHistogram(name: "brixia_study_processing_seconds", buckets: Self.latencyBuckets,
                                                help: "Seconds from claiming a study to its stored result (latest 10000 studies).")
            for d in try store.finishedJobDurations() { h.record(d) }
            for d in try store.outgoingStatus() {
                for (state, n) in [("pending", d.pending), ("sent", d.sent), ("failed", d.failed)] {
                    registry.makeGauge(name: "brixia_outgoing_items", labels: [("destination", d.destination), ("state", state)],
                                       help: "Reports in the outgoing queue per PACS destination and state.").set(to: Double(n))
                }
            }
            registry.makeGauge(name: "brixia_up", help: "1 when the store could be read for this scrape.").set(to: 1)
        } catch {
            registry.makeGauge(name: "brixia_up", help: "1 when the store could be read for this scrape.").set(to: 0)
        }
        return Reply.text(registry.emitToString(), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }
}
