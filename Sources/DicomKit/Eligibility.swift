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
    private static let lateralViews: Set<String> = ["LL", "RL", "LATERAL", "LAT", "RLD", "LLD", "LLO", "RLO"]
    private static let frontalViews: Set<String> = ["AP", "PA"]
    private static let veterinaryWords: Set<String> = ["CANINE", "FELINE", "EQUINE", "BOVINE", "VETERINARY", "VETERINARIAN", "DOG", "CAT"]

    /// Reasons and warnings quote header values; they come back printable (control characters escaped).
    public static func eligibility(of d: DicomInstance) -> Eligibility {
        var e = rules(d)
        e.reason = OutputReadiness.printable(e.reason)
        e.warnings = e.warnings.map { OutputReadiness.printable($0) }
        return e
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

        // 6. Frontal view only.
        let view = d.series.viewPosition.uppercased()
        if lateralViews.contains(view) { return .reject("lateral view (ViewPosition \(view)); only frontal AP/PA views are scored") }
        let hints: [(String, String)] = [
            ("AcquisitionDeviceProcessingDescription", d.instance.acquisitionDeviceProcessingDescription),
            ("ProtocolName", d.series.protocolName),
            ("SeriesDescription", d.series.description),
            ("StudyDescription", d.study.description),
        ]
        for (name, value) in hints where words(value).contains(where: { lateralWords.contains($0) }) {
            if !frontalViews.contains(view) {
                return .reject("lateral view (\(name) '\(value)'); only frontal AP/PA views are scored")
            }
        }
        for (name, value) in hints where words(value).contains(where: { veterinaryWords.contains($0) }) {
            return .reject("non-human (veterinary) study (\(name) '\(value)')")
        }
        if !frontalViews.contains(view) {
            warnings.append(view.isEmpty ? "view position unknown (no ViewPosition); assumed frontal"
                                         : "view position '\(view)' not recognised; assumed frontal")
        }

        // 7. Size sanity.
        let g = d.geometry
        if g.rows < minimumSide || g.columns < minimumSide {
            return .reject("image too small (\(g.columns)x\(g.rows)) for a chest radiograph (minimum \(minimumSide) px)")
        }

        let body = d.series.bodyPartExamined.uppercased()
        if !body.isEmpty, !["CHEST", "THORAX", "LUNG", "TORACE", "TORAX", "BRUST", "PORT CHEST"].contains(where: { body.contains($0) }) {
            warnings.append("BodyPartExamined '\(body)' is not CHEST")
        }
        let kind = isSC ? "Secondary Capture \(modality)" : modality
        let viewText = frontalViews.contains(view) ? view : "unknown view"
        return .accept("\(kind) \(viewText) chest radiograph", warnings: warnings)
    }

    private static func words(_ s: String) -> [String] {
        s.uppercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
    }
}
