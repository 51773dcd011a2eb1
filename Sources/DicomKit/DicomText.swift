/// Decodes person names and other text per SpecificCharacterSet (0008,0005).
enum DicomText {
    static func decode(_ bytes: [UInt8], characterSet: String) -> String {
        // The last declared set is the one used for non-ASCII bytes when code extensions are present.
        let terms = characterSet.split(separator: "\\").map { String($0).trimmed(" ") }
        let term = terms.last(where: { !$0.isEmpty }) ?? ""
        switch term {
        case "ISO_IR 192":
            return String(decoding: bytes, as: UTF8.self)
        case "ISO_IR 100", "ISO 2022 IR 100":
            return latin1(bytes)
        default:
            // Default repertoire is ASCII; be forgiving with mislabelled files: valid UTF-8 first, else latin1.
            if let s = String(validating: bytes, as: UTF8.self) { return s }
            return latin1(bytes)
        }
    }

    static func latin1(_ bytes: [UInt8]) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return String(s)
    }
}

extension String {
    func trimmed(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
