import Foundation

/// Outside text (names, descriptions) as the rendered reports draw it: only what the embedded font can draw,
/// never replacement characters. The font covers Latin (Latin-1 and Extended-A), Greek and Cyrillic; for other
/// scripts (CJK, Hebrew, Arabic, Thai) a name falls back to another of its component groups, else to a plain
/// placeholder pointing at the patient ID (docs/reports.md, "Names in the rendering").
enum ReportText {
    static let unrenderableName = "(name not shown: script not in the report font; see ID)"
    static let unrenderableText = "(not shown: script not in the report font)"

    /// A DICOM PN for display: the first of its component groups (alphabetic = ideographic = phonetic) that
    /// the font can draw, with "^" as spaces; `unrenderableName` when none can be drawn.
    static func name(_ pn: String) -> String {
        for group in pn.split(separator: "=", omittingEmptySubsequences: true) {
            let shown = group.split(separator: "^", omittingEmptySubsequences: true).joined(separator: " ")
                .trimmingCharacters(in: .whitespaces)
            if !shown.isEmpty, BitmapFont.face(.regular13).covers(shown) { return shown }
        }
        return pn.isEmpty ? "" : unrenderableName
    }

    /// Any other outside text: itself when drawable, else `unrenderableText`.
    static func text(_ s: String) -> String {
        BitmapFont.face(.regular13).covers(s) ? s : unrenderableText
    }
}
