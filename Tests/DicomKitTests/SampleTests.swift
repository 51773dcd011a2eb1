import Testing
import Foundation
@testable import DicomKit

/// Samples/ (made by Samples/generate.py): each file reads, decodes, and is selected as the generator intended.
@Suite struct SampleTests {
    static let samples = SharedData.repoRoot.appendingPathComponent("Samples")

    @Test func everySampleMatchesManifest() throws {
        let manifest = try String(contentsOf: Self.samples.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
        let rows = manifest.split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count >= 13)
        var patients: [String: Set<String>] = [:]
        for r in rows {
            let path = Self.samples.appendingPathComponent(r[0]).path
            switch r[6] {
            case "error":
                #expect(throws: DicomError.self) { _ = try DicomFile(path: path) }
            default:
                let f = try DicomFile(path: path)
                let e = InstanceSelector.eligibility(of: f.instance)
                #expect(e.eligible == (r[6] == "yes"), "\(r[0]): \(e.reason)")
                if r[6] == "no" { #expect(e.reason.contains(r[7]), "\(r[0]): \(e.reason)") }
                #expect(f.instance.patient.id == r[1] && f.instance.study.date == r[2] && f.instance.series.modality == r[3])
                #expect(f.instance.geometry.photometricInterpretation == r[4] && f.instance.geometry.bitsStored == 12)
                let (px, voi) = try f.decodeDisplay()
                #expect(voi == .window && px.values.count == f.instance.geometry.rows * f.instance.geometry.columns)
                if e.eligible {
                    patients[r[1], default: []].insert(f.instance.study.instanceUID)
                    #expect(f.instance.geometry.pixelSpacing?.row == 0.4)
                    // Lungs dark, mediastinum bright: compare a lung point with the spine.
                    let w = px.width, h = px.height
                    let lung = px.values[(h * 45 / 100) * w + w * 30 / 100], spine = px.values[(h * 45 / 100) * w + w / 2]
                    #expect(lung < spine, "\(r[0]): lung \(lung) spine \(spine)")
                }
            }
        }
        #expect(patients.count == 3 && patients.values.allSatisfy { $0.count >= 3 })
        let names = try ["BRX-0002/20260305_CR_PA.dcm", "BRX-0003/20260308_DX_PA.dcm"].map {
            try DicomFile(path: Self.samples.appendingPathComponent("studies/" + $0).path).instance.patient.name
        }
        #expect(names == ["Müller^Jürgen", "Ñáñez^Lucía"])
    }
}
