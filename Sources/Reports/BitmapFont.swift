import Foundation

/// The embedded DejaVu Sans bitmap faces (see scripts/gen_bitmap_font.c). Rendering needs no font files.
struct BitmapFont: Sendable {
    struct Glyph: Sendable { let advance: Int, left: Int, top: Int, width: Int, rows: Int, offset: Int }
    let pixelSize: Int, ascender: Int, lineHeight: Int
    let glyphs: [Glyph]      // code points 32...126 then 160...255
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
            var glyphs: [Glyph] = [], alpha: [UInt8] = []
            for _ in 0..<(95 + 96) {
                let adv = u8(), left = i8(), top = i8(), w = u8(), r = u8()
                glyphs.append(Glyph(advance: adv, left: left, top: top, width: w, rows: r, offset: alpha.count))
                alpha.append(contentsOf: b[pos..<(pos + w * r)]); pos += w * r
            }
            faces.append(BitmapFont(pixelSize: size, ascender: asc, lineHeight: lh, glyphs: glyphs, alpha: alpha))
        }
        return faces
    }()

    static func face(_ f: Face) -> BitmapFont { faces[f.rawValue] }

    func glyph(_ scalar: Unicode.Scalar) -> Glyph {
        let v = Int(scalar.value)
        if (32...126).contains(v) { return glyphs[v - 32] }
        if (160...255).contains(v) { return glyphs[95 + v - 160] }
        return glyphs[Int(("?" as Unicode.Scalar).value) - 32]   // outside Latin-1: shown as "?"
    }

    func width(_ s: String) -> Int { s.unicodeScalars.reduce(0) { $0 + glyph($1).advance } }
}
