import Foundation

/// The embedded DejaVu Sans bitmap faces (see scripts/gen_bitmap_font.c). Rendering needs no font files.
struct BitmapFont: Sendable {
    struct Glyph: Sendable { let advance: Int, left: Int, top: Int, width: Int, rows: Int, offset: Int }
    let pixelSize: Int, ascender: Int, lineHeight: Int
    let glyphs: [Glyph]
    /// Code point -> index into glyphs (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic; see the generator).
    let index: [UInt32: Int]
    let alpha: [UInt8]

    enum Face: Int { case regular13 = 0, regular16, bold16, bold26 }

    static let faces: [BitmapFont] = {
        guard let blob = Data(base64Encoded: BitmapFontData.base64, options: .ignoreUnknownCharacters) else {
            fatalError("BitmapFontData is corrupt; regenerate with scripts/gen_bitmap_font.c")
        }
        let b = [UInt8](blob)
        var pos = 0, faces: [BitmapFont] = []
        func u8() -> Int { defer { pos += 1 }; return Int(b[pos]) }
        func i8() -> Int { defer { pos += 1 }; return Int(Int8(bitPattern: b[pos])) }
        while pos < b.count {
            let size = u8(), asc = u8(), lh = u8()
            let count = u8() << 8 | u8()
            var glyphs: [Glyph] = [], alpha: [UInt8] = [], index: [UInt32: Int] = [:]
            for _ in 0..<count {
                let cp = u8() << 8 | u8()
                let adv = u8(), left = i8(), top = i8(), w = u8(), r = u8()
                index[UInt32(cp)] = glyphs.count
                glyphs.append(Glyph(advance: adv, left: left, top: top, width: w, rows: r, offset: alpha.count))
                alpha.append(contentsOf: b[pos..<(pos + w * r)]); pos += w * r
            }
            faces.append(BitmapFont(pixelSize: size, ascender: asc, lineHeight: lh, glyphs: glyphs, index: index, alpha: alpha))
        }
        return faces
    }()

    static func face(_ f: Face) -> BitmapFont { faces[f.rawValue] }

    func glyph(_ scalar: Unicode.Scalar) -> Glyph {
        if let i = index[scalar.value] { return glyphs[i] }
        return glyphs[index[UInt32(("?" as Unicode.Scalar).value)]!]   // callers draw ReportText.displayable text only
    }

    /// Whether every character of `s` has a glyph (the faces share one repertoire).
    func covers(_ s: String) -> Bool { s.unicodeScalars.allSatisfy { index[$0.value] != nil } }

    func width(_ s: String) -> Int { s.unicodeScalars.reduce(0) { $0 + glyph($1).advance } }
}
