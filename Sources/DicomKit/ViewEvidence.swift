import Foundation

/// What the header says about the projection of a radiograph, attribute by attribute (docs/dicom-input.md,
/// "Eligibility"). Each reader returns nil when the attribute is absent or says nothing usable, so the
/// selection rules can tell "no information" from "frontal" and "lateral".
public enum ViewClass: String, Sendable, Equatable {
    case frontal, lateral, oblique, decubitus
    /// A projection that is none of the above (axial, cranio-caudal, tangential, ...).
    case other
}

public struct ViewEvidence: Sendable, Equatable {
    public var view: ViewClass
    /// Where it came from, quoting the value, e.g. "View Code Sequence 'right lateral' (SCT 399198007)".
    public var source: String
}

public enum ViewEvidenceReader {
    // MARK: ViewPosition (0018,5101)

    private static let lateralWords: Set<String> = ["LL", "RL", "LAT", "LATERAL", "LLAT", "RLAT"]
    private static let obliqueWords: Set<String> = ["LLO", "RLO", "LAO", "RAO", "LPO", "RPO", "OBL", "OBLIQUE"]
    private static let decubitusWords: Set<String> = ["RLD", "LLD", "DECUBITUS", "DEC"]
    private static let frontalWords: Set<String> = ["AP", "PA", "FRONTAL"]

    /// ViewPosition words (DX defined terms AP, PA, LL, RL, RLD, LLD, RLO, LLO and common local variants).
    /// A value such as "AP SUPINE" is frontal; one that mixes frontal and lateral words is lateral.
    public static func viewPosition(_ value: String) -> ViewEvidence? {
        let w = Set(words(value))
        guard !w.isEmpty else { return nil }
        let v = OutputReadiness.printable(value.uppercased(), limit: 64)
        if !w.isDisjoint(with: decubitusWords) { return ViewEvidence(view: .decubitus, source: "ViewPosition \(v)") }
        if !w.isDisjoint(with: lateralWords) { return ViewEvidence(view: .lateral, source: "ViewPosition \(v)") }
        if !w.isDisjoint(with: obliqueWords) { return ViewEvidence(view: .oblique, source: "ViewPosition \(v)") }
        if !w.isDisjoint(with: frontalWords) { return ViewEvidence(view: .frontal, source: "ViewPosition \(v)") }
        return nil
    }

    // MARK: View Code Sequence (0054,0220), CID 4010 "DX View"

    /// CID 4010 codes by SNOMED CT concept id (scheme SCT) and by the legacy SNOMED-RT id (scheme SRT,
    /// what most modalities still send). Checked against the CID 4010 tables of pydicom 3.0.2
    /// (pydicom/sr/_cid_dict.py, _concepts_dict.py, _snomed_dict.py). R-10214 is the PA code of older
    /// editions of CID 4010 (since replaced by R-40888) and is still found in the wild.
    public static let viewCodes: [String: (ViewClass, String)] = {
        let table: [(String, String, ViewClass, String)] = [
            ("399348003", "R-10206", .frontal, "antero-posterior"),
            ("272479007", "R-40888", .frontal, "postero-anterior"),
            ("399033003", "R-10202", .frontal, "frontal"),
            ("399198007", "R-10232", .lateral, "right lateral"),
            ("399173006", "R-10236", .lateral, "left lateral"),
            ("399067008", "R-102CD", .lateral, "lateral"),
            ("260427002", "R-40783", .lateral, "lateral oblique"),
            ("399352003", "R-10228", .lateral, "lateral-medial"),
            ("399260004", "R-10224", .lateral, "medial-lateral"),
            ("399038007", "R-10210", .oblique, "right posterior oblique"),
            ("399006002", "R-10212", .oblique, "left posterior oblique"),
            ("399135007", "R-10220", .oblique, "left anterior oblique"),
            ("399356000", "R-40985", .oblique, "right anterior oblique"),
            ("399312000", "R-10208", .oblique, "antero-posterior oblique"),
            ("399059000", "R-10216", .oblique, "postero-anterior oblique"),
            ("399236003", "R-10234", .oblique, "right oblique"),
            ("399184004", "R-10238", .oblique, "left oblique"),
            ("399182000", "R-102C1", .oblique, "oblique"),
            ("399160007", "R-10204", .oblique, "frontal oblique"),
            ("260426006", "R-40782", .oblique, "medial oblique"),
            ("399099002", "R-10230", .oblique, "latero-medial oblique"),
            ("399368009", "R-10226", .oblique, "medio-lateral oblique"),
            ("102535000", "", .decubitus, "right lateral decubitus"),
            ("102536004", "", .decubitus, "left lateral decubitus"),
            ("399061009", "R-10241", .other, "axial"),
            ("399162004", "R-10242", .other, "cranio-caudal"),
            ("399196006", "R-10244", .other, "caudo-cranial"),
            ("399110001", "R-102C2", .other, "tangential"),
        ]
        var d: [String: (ViewClass, String)] = ["SRT:R-10214": (.frontal, "postero-anterior")]
        for (sct, srt, c, m) in table {
            d["SCT:" + sct] = (c, m)
            if !srt.isEmpty { d["SRT:" + srt] = (c, m) }
        }
        return d
    }()

    /// The first View Code Sequence item: a known CID 4010 code (SCT, SRT or the SNM3 alias of SRT), else
    /// the words of its Code Meaning; nil when absent or when the meaning says nothing about the view.
    public static func viewCode(_ items: [DicomInstance.CodedEntry]) -> ViewEvidence? {
        guard let c = items.first, !(c.value.isEmpty && c.meaning.isEmpty) else { return nil }
        let scheme = c.scheme.uppercased() == "SNM3" ? "SRT" : c.scheme.uppercased()
        let shown = "View Code Sequence '\(OutputReadiness.printable(c.meaning, limit: 64))' (\(OutputReadiness.printable(c.scheme, limit: 16)) \(OutputReadiness.printable(c.value, limit: 32)))"
        if let (view, _) = viewCodes["\(scheme):\(c.value)"] { return ViewEvidence(view: view, source: shown) }
        let m = c.meaning.lowercased()
        if m.contains("decubitus") { return ViewEvidence(view: .decubitus, source: shown) }
        if m.contains("oblique") { return ViewEvidence(view: .oblique, source: shown) }
        if m.contains("lateral") { return ViewEvidence(view: .lateral, source: shown) }
        if m.contains("antero-posterior") || m.contains("postero-anterior") || m.contains("anteroposterior")
            || m.contains("posteroanterior") || m == "frontal" || m == "ap" || m == "pa" {
            return ViewEvidence(view: .frontal, source: shown)
        }
        return nil
    }

    // MARK: Patient Orientation (0020,0020)

    /// Row and column directions (e.g. "L\F"): the first letter of each value is its main direction.
    /// Frontal: one of L/R and one of H/F; lateral: one of A/P and one of H/F; A/P with L/R is an axial
    /// projection. Anything else (empty, one value, unknown letters) gives nil.
    public static func patientOrientation(_ value: String) -> ViewEvidence? {
        let parts = value.uppercased().split(separator: "\\", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let a = parts[0].first, let b = parts[1].first else { return nil }
        func axis(_ ch: Character) -> Character? {
            switch ch { case "L", "R": return "X"; case "A", "P": return "Y"; case "H", "F": return "Z"; default: return nil }
        }
        guard let x = axis(a), let y = axis(b), x != y else { return nil }
        let axes: Set<Character> = [x, y]
        let shown = "PatientOrientation \(OutputReadiness.printable(value.uppercased(), limit: 32))"
        if axes == ["X", "Z"] { return ViewEvidence(view: .frontal, source: shown) }
        if axes == ["Y", "Z"] { return ViewEvidence(view: .lateral, source: shown) }
        return ViewEvidence(view: .other, source: shown)
    }

    // MARK: BodyPartExamined (0018,0015)

    /// Chest words: the DICOM defined terms CHEST and LUNG, THORAX (common, e.g. Fuji), and local spellings.
    public static let chestWords: Set<String> = [
        "CHEST", "THORAX", "LUNG", "LUNGS", "THORACIC", "PORTCHEST", "CXR",
        "TORACE", "TORAX", "TÓRAX", "TORACICO", "TORÁCICO", "BRUST", "BRUSTKORB", "THORAKS", "POUMON", "POUMONS", "POITRINE",
        "PECHO", "POLMONE", "POLMONI", "LUNGE", "LUNGEN",
    ]

    /// True when BodyPartExamined names the chest (word match, case-insensitive: "CHEST", "Port Chest",
    /// "THORAX_PA"); "CHESTABDOMEN" and every other region are not a chest radiograph.
    public static func isChest(bodyPart: String) -> Bool {
        words(bodyPart).contains { chestWords.contains($0) }
    }

    static func words(_ s: String) -> [String] {
        s.uppercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
    }
}
