import ArgumentParser
import Store

struct TrendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trend",
        abstract: "Brixia score history of one patient: exams in date order, deltas, trend labels, alerts.",
        discussion: """
            Exams are the patient's studies (PatientID + IssuerOfPatientID) that have an analysis, ordered by study \
            date/time (acquisition date/time when the study has none), using each study's latest analysis version. \
            A change of the global score is 'worse' or 'better' when |delta| >= --threshold (default 2), else 'stable'. \
            Alert rules: global>=N, rise>=N (global rise vs prior), zone-rise>=N (default: rise>=3, global>=12).

            Examples:
              brixia trend BRX-0001
              brixia trend BRX-0001 --json --config /etc/brixia/brixia.conf
              brixia trend 12345 --issuer HOSPITAL-A --work-dir /var/lib/brixia
            """)

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "PatientID.")
    var patientID: String

    @Option(help: "IssuerOfPatientID (needed when the PatientID exists under several issuers; '' for none).")
    var issuer: String?

    @Option(help: "Global-score change counted as worse/better.")
    var threshold: Int = 2

    @Option(name: .customLong("rule"), help: "Alert rule (repeatable); replaces the defaults.")
    var rules: [String] = []

    @Flag(help: "Print JSON: {\"patientID\", \"exams\": [...]}.")
    var json = false

    func validate() throws {
        guard threshold >= 1 else { throw ValidationError("--threshold must be at least 1") }
    }

    func run() throws {
        let trend = try runReportingStoreErrors {
            let store = try database.open()
            let parsedRules = try rules.isEmpty ? AlertRule.defaults : rules.map(AlertRule.init(spec:))
            return try store.trend(patientID: patientID, issuer: issuer,
                                   options: TrendOptions(threshold: threshold, rules: parsedRules))
        }
        if json {
            print(try StoreJSON.encode(trend))
            return
        }
        out("Patient \(trend.patientID): \(trend.exams.count) scored exam(s). \(aiDisclaimer)")
        guard !trend.exams.isEmpty else { return }
        out(TrendText.table(trend))
        out("")
        out(TrendText.chart(trend))
    }
}
