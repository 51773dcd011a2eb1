import ArgumentParser
import DicomKit
import Foundation
import TextSafety
import Imaging

/// `brixia inspect FILE... [--json] [--preview OUT.png]`: header fields, decode result and eligibility.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show DICOM (or PNG/JPEG) header fields, the decoded image and whether Brixia would score it.",
        discussion: """
        Exit status 0 when every file was read and decoded (eligible or not), 1 when any could not be.
        With several files, --preview OUT.png writes OUT-<n>-<file stem>.png per file (n = 1-based position).

        Examples:
          brixia inspect study/IM0001.dcm
          brixia inspect *.dcm --json
          brixia inspect IM0001.dcm --preview /tmp/preview.png
        """
    )

    @Argument(help: "DICOM, PNG or JPEG files.") var files: [String]
    @Flag(help: "Print one JSON array with an object per file.") var json = false
    @Option(help: "Write the display image as an 8-bit PNG.") var preview: String?

    func run() throws {
        var reports: [InspectReport] = []
        for (i, path) in files.enumerated() {
            var r = InspectReport.make(path: path)
            if let preview, let image = r.image {
                let out = InspectCommand.previewPath(preview, index: i + 1, of: files.count, source: path)
                do { try image.writePNG(path: out); r.previewPath = out } catch {
                    r.previewError = "\(error)"
                }
            }
            reports.append(r)
        }
        if json {
            print(JSONText.array(reports.map { $0.json() }))
        } else {
            for r in reports { print(r.text()) }
        }
        if reports.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }

    static func previewPath(_ base: String, index: Int, of count: Int, source: String) -> String {
        if count == 1 { return base }
        let url = URL(fileURLWithPath: base)
        let ext = url.pathExtension.isEmpty ? "png" : url.pathExtension
        let stem = url.deletingPathExtension().lastPathComponent
        let src = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent("\(stem)-\(index)-\(src).\(ext)").path
    }
}

/// What inspect found about one file.
struct InspectReport {
    var path: String
    var format = "unknown"
    var ok = false
    var error: String?
    var errorKind: String?
    var dicom: DicomInstance?
    var image: DisplayImage?
    var voi: String?
    var eligibility: Eligibility?
    var previewPath: String?
    var previewError: String?

    static func make(path: String) -> InspectReport {
        var r = InspectReport(path: path)
        do {
            let file = try DicomFile(path: path)
            r.format = "dicom"
            r.dicom = file.instance
            r.eligibility = InstanceSelector.eligibility(of: file.instance)
            let (px, voi) = try file.decodeDisplay()
            r.image = try DisplayImage(width: px.width, height: px.height, pixels: px.values)
            r.voi = voi.rawValue
            r.ok = true
            if r.eligibility?.eligible == true, let image = r.image, let w = InversionCheck.check(image).warning {
                r.eligibility?.warnings.append(w)
            }
        } catch let e as DicomError {
            if case .notDicom = e, let img = try? DisplayImage.read(path: path) {
                r.format = "image"
                r.image = img
                r.ok = true
                r.eligibility = .accept("plain image file (no DICOM header); assumed frontal chest radiograph",
                                        warnings: ["no DICOM header: patient, study and view unknown"])
            } else {
                r.error = e.description
                r.errorKind = e.kind
                if r.eligibility?.eligible ?? true { r.eligibility = .reject(e.reason) }
            }
        } catch {
            r.error = "\(path): \(error)"
            r.errorKind = "other"
            r.eligibility = .reject("\(error)")
        }
        return r
    }

    func json() -> [(String, JSONText.Value)] {
        let d = dicom
        func s(_ v: String?) -> JSONText.Value { v.map { .string($0) } ?? .null }
        func n(_ v: Int?) -> JSONText.Value { v.map { .int($0) } ?? .null }
        var o: [(String, JSONText.Value)] = [
            ("path", .string(path)),
            ("ok", .bool(ok)),
            ("error", s(error)),
            ("errorKind", s(errorKind)),
            ("format", .string(format)),
            ("patientID", s(d?.patient.id)),
            ("patientName", s(d?.patient.name)),
            ("specificCharacterSet", s(d?.specificCharacterSet)),
            ("studyInstanceUID", s(d?.study.instanceUID)),
            ("studyDate", s(d?.study.date)),
            ("seriesInstanceUID", s(d?.series.instanceUID)),
            ("sopInstanceUID", s(d?.instance.sopInstanceUID)),
            ("sopClassUID", s(d?.instance.sopClassUID)),
            ("modality", s(d?.series.modality)),
            ("viewPosition", s(d?.series.viewPosition)),
            ("bodyPartExamined", s(d?.series.bodyPartExamined)),
            ("photometricInterpretation", s(d?.geometry.photometricInterpretation)),
            ("bitsStored", n(d?.geometry.bitsStored)),
            ("rows", n(d?.geometry.rows ?? image?.height)),
            ("columns", n(d?.geometry.columns ?? image?.width)),
            ("pixelSpacing", d?.geometry.pixelSpacing.map { .array([.double($0.row), .double($0.column)]) } ?? .null),
            ("pixelSpacingSource", s(d?.geometry.pixelSpacing?.source.rawValue)),
            ("transferSyntaxUID", s(d?.transferSyntaxUID)),
            ("transferSyntaxName", s(d.map { $0.transferSyntaxName })),
            ("presentationLUTShape", s(d?.presentation.presentationLUTShape)),
            ("eligible", .bool(eligibility?.eligible ?? false)),
            ("reason", s(eligibility?.reason)),
            ("warnings", .array((eligibility?.warnings ?? []).map { .string($0) })),
        ]
        if let image {
            o.append(("decoded", .object([
                ("width", .int(image.width)), ("height", .int(image.height)),
                ("min", .double(Double(image.minimum))), ("max", .double(Double(image.maximum))),
                ("mean", .double(image.mean)), ("voi", s(voi)),
            ])))
        } else {
            o.append(("decoded", .null))
        }
        o.append(("preview", s(previewPath)))
        if let previewError { o.append(("previewError", .string(previewError))) }
        return o
    }

    func text() -> String {
        var lines = ["\(path):"]
        func add(_ k: String, _ v: String?) { if let v, !v.isEmpty { lines.append("  \(k): \(v)") } }
        if let error { add("error", error) }
        if let d = dicom {
            add("patient", "\(d.patient.id) \(d.patient.name) sex \(d.patient.sex) born \(d.patient.birthDate)")
            add("character set", d.specificCharacterSet.isEmpty ? nil : "\(d.specificCharacterSet) (text converted to Unicode)")
            add("study", "\(d.study.instanceUID) date \(d.study.date) \(d.study.time) accession \(d.study.accessionNumber) \(d.study.description)")
            add("series", "\(d.series.instanceUID) #\(d.series.number.map(String.init) ?? "-") \(d.series.modality) \(d.series.bodyPartExamined) view '\(d.series.viewPosition)' \(d.series.description) [\(d.series.manufacturer)]")
            add("instance", "\(d.instance.sopInstanceUID) class \(d.instance.sopClassUID) type \(d.instance.imageType.joined(separator: "\\")) frames \(d.instance.numberOfFrames) \(d.instance.presentationIntentType)")
            let g = d.geometry
            add("image", "\(g.columns)x\(g.rows) \(g.photometricInterpretation) bits \(g.bitsStored)/\(g.bitsAllocated) repr \(g.pixelRepresentation) spacing \(g.pixelSpacing.map { "\($0.row)\\\($0.column) (\($0.source.rawValue))" } ?? "none")")
            add("transfer syntax", "\(d.transferSyntaxUID) \(d.transferSyntaxName)\(d.hasFileMeta ? "" : " (no File Meta)")")
            add("VOI", "windows \(d.presentation.windowCenters)/\(d.presentation.windowWidths) VOI LUTs \(d.presentation.voiLUTCount) presentation LUT shape '\(d.presentation.presentationLUTShape)'")
        }
        if let image {
            add("decoded", String(format: "%dx%d min %.4f max %.4f mean %.4f (VOI %@)", image.width, image.height,
                                  Double(image.minimum), Double(image.maximum), image.mean, voi ?? format))
        }
        if let e = eligibility {
            add("eligible", "\(e.eligible ? "yes" : "no"): \(e.reason)")
            for w in e.warnings { add("warning", w) }
        }
        add("preview", previewPath)
        add("preview error", previewError)
        return lines.joined(separator: "\n")
    }
}

/// A tiny JSON writer with stable key order.
enum JSONText {
    indirect enum Value {
        case string(String), int(Int), double(Double), bool(Bool), null
        case array([Value]), object([(String, Value)])
    }

    static func array(_ objects: [[(String, Value)]]) -> String { render(.array(objects.map { .object($0) })) }

    static func render(_ v: Value) -> String {
        switch v {
        case .string(let s): return SafeText.jsonString(s)
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let a): return "[" + a.map(render).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.map { SafeText.jsonString($0.0) + ":" + render($0.1) }.joined(separator: ",") + "}"
        }
    }

}
