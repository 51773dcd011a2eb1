import BrixiaDomain
import ArgumentParser
import DicomNetwork
import Foundation
import Pipeline
import Store
import TextSafety

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Everything stored about one study: patient, instances, analyses, outputs (and their sending to the PACS), job state and history.",
        discussion: """
            Examples:
              brixia show 884b29800327      # the reference a log line printed
              brixia show 1.2.826.0.1.3680043.9.7777.20.1 --json
              brixia show 884b2980 --config /etc/brixia/brixia.conf
            """)

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "StudyInstanceUID, or the short study reference the log prints (study=884b29800327; a unique prefix of it works too).")
    var study: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let store = try runReportingStoreErrors { try database.open() }
        let d = try runReportingStoreErrors { try store.studyDetail(studyInstanceUID: try resolveStudy(in: store)) }
        let sends = try runReportingStoreErrors {
            try store.outgoingItems(sopInstanceUIDs: d.analyses.flatMap { $0.outputs.map(\.sopInstanceUID) }
                                        + d.notScored.flatMap { $0.outputs.map(\.sopInstanceUID) })
        }
        if json {
            print(try OutgoingReport.merge(try StoreJSON.encode(d), key: "outgoing", value: sends))
            return
        }
        // The user asked for this study, so the patient's name may be shown here (never in logs).
        let issuer = d.patient.issuer.isEmpty ? "" : " (issuer \(d.patient.issuer))"
        out("study    \(d.study.studyInstanceUID)")
        out("patient  \(SafeText.escape(d.patient.patientID))\(issuer)  name \(SafeText.escape(d.patient.name ?? "-"))  sex \(d.patient.sex ?? "-")  born \(d.patient.birthDate ?? "-")")
        out("date     \(d.date ?? "undated")  accession \(d.study.accessionNumber ?? "-")  description \(SafeText.escape(d.study.description ?? "-"))")
        out("")
        out("instances (\(d.instances.count)):")
        for i in d.instances {
            let eligibility = i.eligible ? "eligible" : "not eligible (\(i.eligibilityReason ?? "no reason given"))"
            out("  \(i.sopInstanceUID)  rev \(i.revision)  \(eligibility)")
            out("    \(SafeText.escape(i.filePath))  sha256 \(i.contentSHA256)")
        }
        out("")
        out("analyses (\(d.analyses.count)): \(aiDisclaimer)")
        for a in d.analyses {
            let r = a.analysis
            let zones = Zone.allCases.map { "\($0.rawValue)\(r.zones[$0])" }.joined(separator: " ")
            let confidence = r.confidence.map { String(format: "%.2f", $0) } ?? "-"
            out("  v\(r.version)  \(iso(r.createdAt))  global \(r.global)  \(zones)  status \(r.status.rawValue)  confidence \(confidence)")
            if let zc = r.zoneConfidence {
                let t = r.calibrationTemperature.map { String(format: ", temperature %.3f", $0) } ?? ""
                out("    zone confidence " + Zone.allCases.map { z in zc[z.rawValue].map { String(format: "\(z.rawValue) %.2f", $0) } ?? "\(z.rawValue) -" }
                        .joined(separator: " ") + " (calibrated\(t))")
            }
            out("    model \(r.modelName) \(r.modelVersion)  weights sha256 \(r.weightsSHA256)")
            if let instance = a.analysedInstance { out("    image \(instance) (revision \(r.instanceRevision ?? 1))") }
            if let p = r.provenance { out("    input " + provenanceText(p)) }
            if !r.timingsMS.isEmpty {
                out("    timings " + r.timingsMS.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value)) ms" }.joined(separator: ", "))
            }
            for o in a.outputs {
                out("    output \(o.kind)  \(o.sopInstanceUID)  \(o.filePath)")
                for i in sends where i.sopInstanceUID == o.sopInstanceUID { out("      " + OutgoingReport.itemLine(i)) }
            }
            for alert in a.alerts { out("    ALERT \(alert.rule): \(alert.message)") }
        }
        if !d.notScored.isEmpty {
            out("not scored (\(d.notScored.count)):")
            for n in d.notScored {
                let r = n.result
                out("  v\(r.version)  \(iso(r.createdAt))  AI analysis not performed: \(SafeText.escape(r.reason))")
                out("    model \(r.modelName) \(r.modelVersion)  stage \(r.stage)")
                if let instance = n.examinedInstance { out("    image \(instance)") }
                if let p = r.provenance { out("    input " + provenanceText(p)) }
                for o in n.outputs {
                    out("    output \(o.kind)  \(o.sopInstanceUID)  \(o.filePath)")
                    for i in sends where i.sopInstanceUID == o.sopInstanceUID { out("      " + OutgoingReport.itemLine(i)) }
                }
            }
        }
        out("")
        if let job = d.job {
            let error = job.lastError.map { "  last error: \($0)" } ?? ""
            let owner = job.owner.map { "  owner \($0)" } ?? ""
            out("job      \(job.state.rawValue)  attempts \(job.attempts)\(owner)\(error)")
        } else {
            out("job      none")
        }
        out("history:")
        for e in d.history {
            let move = e.fromState.map { "\($0) -> \(e.toState ?? "?")" } ?? (e.toState.map { "-> \($0)" } ?? "")
            out("  \(iso(e.at))  \(e.kind)  \(move)  \(e.actor.map { "[\($0)] " } ?? "")\(e.message ?? "")")
        }
    }
}

extension ShowCommand {
    /// A UID known to the store is taken as is; otherwise hex text is matched against the log's study
    /// references (SHA-256 prefixes of the UIDs). An ambiguous prefix is an error listing the candidates.
    func resolveStudy(in store: BrixiaStore) throws -> String {
        guard StudyReference.looksLikeReference(study), !study.contains(".") else { return study }
        let uids = try store.studies().map(\.studyInstanceUID)
        if uids.contains(study) { return study }
        let matches = uids.filter { StudyReference.full($0).hasPrefix(study) }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw CommandFailure(description: "no study has the UID or log reference \(SafeText.escape(study))")
        default:
            throw CommandFailure(description: "reference \(study) matches \(matches.count) studies; give more digits or the UID: "
                                 + matches.prefix(5).joined(separator: ", "))
        }
    }
}

/// One line: transfer syntax, lossy compression, photometric interpretation, inversion, VOI (issue #14 item 6).
func provenanceText(_ p: InputProvenance) -> String {
    var parts = [p.lossy ? "LOSSY compressed" : "not lossy compressed"]
    if !p.lossyRatio.isEmpty { parts.append("ratio " + p.lossyRatio.map { String(format: "%g", $0) }.joined(separator: "\\")) }
    if !p.lossyMethod.isEmpty { parts.append("method " + p.lossyMethod.joined(separator: "\\")) }
    if let ts = p.transferSyntaxUID { parts.append("transfer syntax \(ts)") }
    if let pi = p.photometricInterpretation { parts.append(pi) }
    parts.append(p.inverted ? "inverted for display" : "not inverted")
    if let voi = p.voi { parts.append("VOI \(voi)") }
    return parts.joined(separator: ", ")
}
