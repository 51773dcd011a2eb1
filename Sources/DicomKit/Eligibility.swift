import Foundation

/// Whether an instance is a frontal chest radiograph that Brixia should score, and why (not).
public struct Eligibility: Sendable, Equatable {
    public var eligible: Bool
    /// One line: why it was accepted or rejected.
    public var reason: String
    /// Accepted-with-caveat notes (e.g. unknown view position).
    public var warnings: [String]

    public static func accept(_ reason: String, warnings: [String] = []) -> Eligibility {
        Eligibility(eligible: true, reason: reason, warnings: warnings)
    }
    public static func reject(_ reason: String) -> Eligibility { Eligibility(eligible: false, reason: reason, warnings: []) }
}

/// SOP classes relevant to selection.
public enum SOPClass {
    public static let cr = "1.2.840.10008.5.1.4.1.1.1"
    public static let dxForPresentation = "1.2.840.10008.5.1.4.1.1.1.1"
    public static let dxForProcessing = "1.2.840.10008.5.1.4.1.1.1.1.1"
    public static let secondaryCapture = "1.2.840.10008.5.1.4.1.1.7"
}

/// The selection rules (docs/dicom-input.md, "Eligibility").
public enum InstanceSelector {
    /// Smallest accepted image side; BS-Net works at 512x512 and real CXRs are >= 1000 px.
    public static let minimumSide = 256

    private static let lateralWords: Set<String> = ["LAT", "LATERAL", "LL", "RL", "LLAT", "RLAT", "LATERALE", "SEITLICH"]
    private static let frontalViews: Set<String> = ["AP", "PA"]
    private static let veterinaryWords: Set<String> = ["CANINE", "FELINE", "EQUINE", "BOVINE", "VETERINARY", "VETERINARIAN", "DOG", "CAT"]

    /// Reasons and warnings quote header values; they come back printable (control characters escaped).
    public static func eligibility(of d: DicomInstance) -> Eligibility {
        var e = rules(d)
        e.reason = OutputReadiness.printable(e.reason)
        e.warnings = e.warnings.map { OutputReadiness.printable($0) }
        return e
    }

    private static func describe(_ v: ViewClass) -> String {
        switch v {
        case .frontal: return "frontal view"
        case .lateral: return "lateral view"
        case .oblique: return "oblique view"
        case .decubitus: return "decubitus view"
        case .other: return "not a frontal chest projection"
        }
    }

    private static func rules(_ d: DicomInstance) -> Eligibility {
        let modality = d.series.modality.uppercased()
        let sop = d.instance.sopClassUID
        var warnings: [String] = []

        // 1. Never re-ingest our own outputs (PACS auto-routing sends them back).
        if modality == "SR" || sop.hasPrefix("1.2.840.10008.5.1.4.1.1.88.") {
            return .reject("structured report (SR), not an image")
        }
        if d.series.manufacturer.lowercased().hasPrefix("brixia") {
            return .reject("Brixia's own output (Manufacturer '\(d.series.manufacturer)')")
        }
        if d.series.description.lowercased().hasPrefix("brixia") {
            return .reject("Brixia's own output (SeriesDescription '\(d.series.description)')")
        }

        // 2. Modality and SOP class: CR, DX For Presentation, or Secondary Capture of a CR/DX.
        let isSC = sop == SOPClass.secondaryCapture
        switch sop {
        case SOPClass.cr, SOPClass.dxForPresentation:
            break
        case SOPClass.dxForProcessing:
            return .reject("DX For Processing image (raw detector data), not For Presentation")
        case SOPClass.secondaryCapture:
            guard modality == "CR" || modality == "DX" else {
                return .reject("Secondary Capture with modality '\(modality)', not CR/DX")
            }
        case "":
            guard modality == "CR" || modality == "DX" else {
                return .reject("modality '\(modality)' is not CR or DX")
            }
            warnings.append("no SOP Class UID; accepted on modality \(modality)")
        default:
            return .reject("SOP class \(sop) (modality '\(modality)') is not a CR/DX radiograph")
        }
        if modality != "" && modality != "CR" && modality != "DX" {
            return .reject("modality '\(modality)' is not CR or DX")
        }
        if d.instance.presentationIntentType.uppercased() == "FOR PROCESSING" {
            return .reject("PresentationIntentType FOR PROCESSING (raw detector data)")
        }

        // 3. Pixel data must be a single monochrome frame.
        if !d.hasPixelData { return .reject("no pixel data") }
        if !d.isMonochrome {
            return .reject("not monochrome (PhotometricInterpretation '\(d.geometry.photometricInterpretation)', SamplesPerPixel \(d.geometry.samplesPerPixel))")
        }
        if d.instance.numberOfFrames > 1 { return .reject("multi-frame image (\(d.instance.numberOfFrames) frames)") }

        // 4. ImageType: a secondary (re-rendered) copy of a modality image is not the original radiograph.
        let it = d.instance.imageType.map { $0.uppercased() }
        if !isSC, it.count >= 2, it[1] == "SECONDARY" {
            return .reject("ImageType \(d.instance.imageType.joined(separator: "\\")) is a secondary image, not an original radiograph")
        }
        if !isSC, it.first == "DERIVED" { warnings.append("ImageType DERIVED (processed image)") }

        // 5. Non-human subjects.
        if !d.patient.speciesDescription.isEmpty, !d.patient.speciesDescription.lowercased().contains("homo sapiens"),
           !d.patient.speciesDescription.lowercased().contains("human") {
            return .reject("non-human patient (PatientSpeciesDescription '\(d.patient.speciesDescription)')")
        }

        // 6. Body part: when present it must name the chest (a leg or knee radiograph is not scored).
        let body = d.series.bodyPartExamined
        if !body.trimmingCharacters(in: .whitespaces).isEmpty, !ViewEvidenceReader.isChest(bodyPart: body) {
            return .reject("BodyPartExamined '\(body)' is not the chest (expected CHEST, THORAX, LUNG or a local spelling)")
        }

        // 7. Frontal view only. Strong evidence: ViewPosition, View Code Sequence, PatientOrientation; any of
        // them saying lateral/oblique/decubitus/other rejects, even when another says frontal (conflict).
        let strong = [ViewEvidenceReader.viewPosition(d.series.viewPosition),
                      ViewEvidenceReader.viewCode(d.viewCodes),
                      ViewEvidenceReader.patientOrientation(d.instance.patientOrientation)].compactMap { $0 }
        let frontal = strong.filter { $0.view == .frontal }
        if let bad = strong.first(where: { $0.view != .frontal }) {
            let conflict = frontal.first.map { "; conflicts with \($0.source)" } ?? ""
            return .reject("\(Self.describe(bad.view)) (\(bad.source)\(conflict)); only frontal AP/PA views are scored")
        }
        // Weak evidence: free-text descriptions count only when neither ViewPosition nor the View Code Sequence
        // says frontal (a study described "CHEST PA AND LAT" holds both views). PatientOrientation alone does not
        // overrule them: the Fuji dog lateral says L\F.
        let hints: [(String, String)] = [
            ("AcquisitionDeviceProcessingDescription", d.instance.acquisitionDeviceProcessingDescription),
            ("ProtocolName", d.series.protocolName),
            ("SeriesDescription", d.series.description),
            ("StudyDescription", d.study.description),
        ]
        if !frontal.contains(where: { $0.source.hasPrefix("ViewPosition") || $0.source.hasPrefix("View Code") }) {
            for (name, value) in hints where words(value).contains(where: { lateralWords.contains($0) }) {
                return .reject("lateral view (\(name) '\(value)'); only frontal AP/PA views are scored")
            }
        }
        for (name, value) in hints where words(value).contains(where: { veterinaryWords.contains($0) }) {
            return .reject("non-human (veterinary) study (\(name) '\(value)')")
        }
        // ImageLaterality: a frontal chest covers both sides (B), or is unpaired (U) / unset.
        let laterality = d.instance.imageLaterality.trimmingCharacters(in: .whitespaces).uppercased()
        if laterality == "L" || laterality == "R" {
            return .reject("ImageLaterality \(laterality): an image of one side only; a frontal chest radiograph covers both lungs")
        }
        let view = d.series.viewPosition.uppercased()
        if frontal.isEmpty {
            warnings.append(view.isEmpty ? "view position unknown (no ViewPosition, View Code Sequence or PatientOrientation); assumed frontal, the image-content check decides"
                                         : "view position '\(view)' not recognised; assumed frontal, the image-content check decides")
        }

        // 8. Size sanity.
        let g = d.geometry
        if g.rows < minimumSide || g.columns < minimumSide {
            return .reject("image too small (\(g.columns)x\(g.rows)) for a chest radiograph (minimum \(minimumSide) px)")
        }

        let kind = isSC ? "Secondary Capture \(modality)" : modality
        let viewText = frontalViews.contains(view) ? view : (frontal.isEmpty ? "unknown view" : "frontal")
        return .accept("\(kind) \(viewText) chest radiograph", warnings: warnings)
    }

    private static func words(_ s: String) -> [String] {
        s.uppercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
    }
}
