/// A tiny RGB raster with the drawing primitives the report page needs.
struct RGBImage: Sendable {
    struct Color: Sendable, Equatable { var r, g, b: UInt8 }
    let width: Int, height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int, background: Color) {
        self.width = width; self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, w: width, h: height, background)
    }

    func pixel(_ x: Int, _ y: Int) -> Color {
        let i = (y * width + x) * 3
        return Color(r: pixels[i], g: pixels[i + 1], b: pixels[i + 2])
    }

    mutating func blend(_ x: Int, _ y: Int, _ c: Color, _ a: Int) {
        guard x >= 0, y >= 0, x < width, y < height, a > 0 else { return }
        let i = (y * width + x) * 3
        if a >= 255 { pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b; return }
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 { UInt8((Int(old) * (255 - a) + Int(new) * a + 127) / 255) }
        pixels[i] = mix(pixels[i], c.r); pixels[i + 1] = mix(pixels[i + 1], c.g); pixels[i + 2] = mix(pixels[i + 2], c.b)
    }

    mutating func fill(x: Int, y: Int, w: Int, h: Int, _ c: Color) {
        for yy in max(0, y)..<min(height, y + h) { for xx in max(0, x)..<min(width, x + w) { blend(xx, yy, c, 255) } }
    }

    mutating func strokeRect(x: Int, y: Int, w: Int, h: Int, _ c: Color, thickness t: Int = 1) {
        fill(x: x, y: y, w: w, h: t, c); fill(x: x, y: y + h - t, w: w, h: t, c)
        fill(x: x, y: y, w: t, h: h, c); fill(x: x + w - t, y: y, w: t, h: h, c)
    }

    /// Line with a square brush of the given thickness (Bresenham).
    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: Color, thickness t: Int = 1) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            fill(x: x - t / 2, y: y - t / 2, w: t, h: t, c)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    mutating func fillCircle(cx: Int, cy: Int, r: Int, _ c: Color) {
        for yy in -r...r { for xx in -r...r where xx * xx + yy * yy <= r * r { blend(cx + xx, cy + yy, c, 255) } }
    }

    /// Draws text with its top-left corner at (x, y); returns the advance width. Text wider than maxWidth is
    /// cut and ends in "..." so long names or descriptions never run into the next column.
    @discardableResult
    mutating func text(_ s: String, x: Int, y: Int, _ face: BitmapFont.Face, _ c: Color, maxWidth: Int = .max) -> Int {
        let f = BitmapFont.face(face)
        var scalars = Array(s.unicodeScalars)
        if f.width(s) > maxWidth {
            let ellipsis = f.width("...")
            var w = 0, n = 0
            while n < scalars.count, w + f.glyph(scalars[n]).advance + ellipsis <= maxWidth { w += f.glyph(scalars[n]).advance; n += 1 }
            scalars = Array(scalars[0..<n]) + Array("...".unicodeScalars)
        }
        var pen = x
        for scalar in scalars {
            let g = f.glyph(scalar)
            let ox = pen + g.left, oy = y + f.ascender - g.top
            for row in 0..<g.rows {
                for col in 0..<g.width { blend(ox + col, oy + row, c, Int(f.alpha[g.offset + row * g.width + col])) }
            }
            pen += g.advance
        }
        return pen - x
    }

    mutating func textCentered(_ s: String, cx: Int, y: Int, _ face: BitmapFont.Face, _ c: Color) {
        text(s, x: cx - BitmapFont.face(face).width(s) / 2, y: y, face, c)
    }
}
