/// Escapes text that came from outside (DICOM values, file names, peer AE titles) before it reaches a
/// terminal, a log line or a reason file: a newline in a PatientID must not forge a log line and an
/// ESC sequence must not drive the operator's terminal. JSON output stays exact (encoders escape).
public enum SafeText {
    /// Control characters (C0, DEL, C1), line/paragraph separators and bidirectional overrides become
    /// visible escapes (`\n`, `\t`, `\r`, `\u{1B}`); everything else, any script included, is kept.
    public static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: needsEscape) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for u in s.unicodeScalars {
            guard needsEscape(u) else { out.unicodeScalars.append(u); continue }
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    /// True when `escape` would change the scalar.
    public static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) { return true }
        // Line/paragraph separators and bidi embeddings/overrides/isolates: invisible reordering.
        if v == 0x2028 || v == 0x2029 || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) { return true }
        return false
    }

    /// Text for a terminal column: escaped, and cut to `limit` characters with an ellipsis.
    public static func cell(_ s: String, limit: Int = 64) -> String {
        let e = escape(s)
        return e.count > limit ? String(e.prefix(max(1, limit - 1))) + "…" : e
    }

    /// A JSON string literal, as Python's json.dumps(ensure_ascii=False) writes it: '"', '\\' and control
    /// characters escaped (\b \f \n \r \t, others \u00xx), everything else raw UTF-8. One quoter for the
    /// project's hand-built JSON (safetensors headers, whose bytes must match the Python converter's, and
    /// `inspect --json`, which keeps its key order).
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += (u.value < 0x10 ? "\\u000" : "\\u00") + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
