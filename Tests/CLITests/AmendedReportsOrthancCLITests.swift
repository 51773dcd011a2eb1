import Foundation
import Store
import Testing

/// The scenario with the real binary and a real PACS: a three-exam patient delivered in reverse
/// date order, one `brixia run --once` per delivery, reports sent to Orthanc. Each later report is re-issued
/// exactly once as an amended SR + SC (same series, Predecessor Documents Sequence naming the replaced SR);
/// Orthanc receives every original and amendment; `brixia trend` agrees with the latest SR of each exam.
@Suite(.serialized, .enabled(if: OrthancServer.binaryAvailable,
                             "needs Orthanc (Debian package orthanc; scripts/install-deps.sh installs it)"))
struct AmendedReportsOrthancCLITests {
    /// Numeric value of the first SR content item with this concept code (nil when absent).
    static func measured(_ code: String, inSR tags: Any) -> Int? {
        var found: Int?
        func walk(_ v: Any) {
            guard found == nil else { return }
            if let d = v as? [String: Any] {
                let concept = (d["ConceptNameCodeSequence"] as? [[String: Any]])?.first?["CodeValue"] as? String
                if concept == code, let m = (d["MeasuredValueSequence"] as? [[String: Any]])?.first,
                   let s = m["NumericValue"] as? String { found = Int(s.trimmingCharacters(in: .whitespaces)); return }
                if let items = d["ContentSequence"] as? [Any] { items.forEach(walk) }
            } else if let a = v as? [Any] { a.forEach(walk) }
        }
        walk(tags)
        return found
    }

    @Test(.timeLimit(.minutes(10)))
    func reverseDateOrderReissuesLaterReportsToThePACSAndTrendAgrees() async throws {
        let w = try WorkDir()
        let pacs = OrthancServer(dir: w.url("orthanc"), brixiaPort: Ports.free())
        try pacs.start()
        defer { pacs.stop() }
        let model = try E2E.sharedModel.get()
        try Data("""
            destinations = \(pacs.destination)
            send_timeout = 10
            send_initial_backoff = 1
            send_max_backoff = 2
            send_retry_window = 600
            """.utf8).write(to: w.url("brixia.conf"))
        let args = ["run", "--once", "--work-dir", w.root.path, "--model", model.path, "--config", w.url("brixia.conf").path]
        let patient = "AMEND-1"
        // Delivery order: day 35, day 7, day 0.
        let exams = [("135", "20200405", UInt32(3)), ("17", "20200308", UInt32(2)), ("10", "20200301", UInt32(1))]
        var uid: [String: String] = [:]
        for (n, date, seed) in exams {
            let st = "\(E2E.root).73.\(n)"
            uid[date] = st
            var f = DicomFixture(study: st, sop: "\(st).1")
            f.patientID = patient; f.studyDate = date; f.seed = seed
            try f.write(to: w.url("inbox/exam-\(n).dcm"))
            let r = try await Brixia.run(args, env: ["BRIXIA_ALLOW_TEST_FIXTURE": "1"], timeout: 240)
            #expect(r.status == 0, "\(r.stdout)\n\(r.stderr.suffix(3000))")
        }
        let day0 = try #require(uid["20200301"]), day7 = try #require(uid["20200308"]), day35 = try #require(uid["20200405"])
        let store = try BrixiaStore.openExisting(path: w.url("brixia.sqlite").path)
        #expect(try store.analyses(studyInstanceUID: day0).map(\.version) == [1])
        #expect(try store.analyses(studyInstanceUID: day7).map(\.version) == [1, 2])
        #expect(try store.analyses(studyInstanceUID: day35).map(\.version) == [1, 2])

        // Every report, original and amended, reached the PACS.
        var latestSR: [String: [String: Any]] = [:]
        for st in [day0, day7, day35] {
            let analyses = try store.analyses(studyInstanceUID: st)
            var srByVersion: [Int: OutputRecord] = [:]
            for a in analyses {
                for o in try store.outputs(analysisID: a.id) {
                    let id = try #require(try pacs.lookup(o.sopInstanceUID, type: "Instance"), "\(o.kind) v\(a.version) of \(st) not in Orthanc")
                    if o.kind == "SR" {
                        srByVersion[a.version] = o
                        latestSR[st] = try #require(try pacs.rest("GET", "/instances/\(id)/tags?simplify") as? [String: Any])
                    }
                }
            }
            guard analyses.count == 2, let v1 = srByVersion[1], let v2 = srByVersion[2] else { continue }
            let tags = try #require(latestSR[st])
            #expect(tags["SeriesInstanceUID"] as? String == v1.seriesInstanceUID, "amended SR not in the replaced SR's series")
            #expect(tags["SOPInstanceUID"] as? String == v2.sopInstanceUID)
            let predecessors = ServeOrthancCLITests.values("PredecessorDocumentsSequence", in: tags)
            #expect(ServeOrthancCLITests.values("ReferencedSOPInstanceUID", in: predecessors).compactMap { $0 as? String } == [v1.sopInstanceUID])
            let texts = ServeOrthancCLITests.values("TextValue", in: tags).compactMap { $0 as? String }
            #expect(texts.contains { $0.contains("replaces version 1") }, "\(texts)")
        }

        // `brixia trend` and the latest SRs agree: same order, same change from the prior.
        let t = try await Brixia.run(["trend", patient, "--db", w.url("brixia.sqlite").path, "--json"])
        #expect(t.status == 0, "\(t.stderr)")
        let trend = try #require(try JSONSerialization.jsonObject(with: Data(t.stdout.utf8)) as? [String: Any])
        let rows = try #require(trend["exams"] as? [[String: Any]])
        #expect(rows.compactMap { $0["studyInstanceUID"] as? String } == [day0, day7, day35])
        for row in rows {
            let st = try #require(row["studyInstanceUID"] as? String)
            let sr = try #require(latestSR[st])
            #expect(Self.measured("BRX-GLOBAL", inSR: sr) == row["global"] as? Int, "\(st)")
            #expect(Self.measured("BRX-DELTA", inSR: sr) == row["delta"] as? Int, "\(st): SR change vs trend delta")
        }
    }
}
