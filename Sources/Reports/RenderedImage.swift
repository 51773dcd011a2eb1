import Foundation
import Imaging

/// A public drawing surface for images other modules render (e.g. the explainability maps), sharing the
/// report page's raster, embedded font and PNG encoder. Added for the Explain module; the report page
/// itself still draws on `RGBImage` directly.
public struct RenderedImage: Sendable {
    public struct Color: Sendable, Equatable {
        public var r, g, b: UInt8
        public init(r: UInt8, g: UInt8, b: UInt8) { self.r = r; self.g = g; self.b = b }
        var raw: RGBImage.Color { .init(r: r, g: g, b: b) }
    }
    public enum Font: Sendable { case regular13, regular16, bold16, bold26 }

    var image: RGBImage

    public init(width: Int, height: Int, background: Color) {
        precondition(width > 0 && height > 0, "image must not be empty")
        image = RGBImage(width: width, height: height, background: background.raw)
    }

    public var width: Int { image.width }
    public var height: Int { image.height }
    /// Interleaved R,G,B bytes, row-major.
    public var pixels: [UInt8] { image.pixels }

    public func pixel(_ x: Int, _ y: Int) -> Color {
        let c = image.pixel(x, y)
        return Color(r: c.r, g: c.g, b: c.b)
    }

    /// Blends `color` over the pixel with opacity alpha/255; out-of-image coordinates are ignored.
    public mutating func blend(_ x: Int, _ y: Int, _ color: Color, alpha: Int = 255) { image.blend(x, y, color.raw, alpha) }
    public mutating func fill(x: Int, y: Int, w: Int, h: Int, _ color: Color) { image.fill(x: x, y: y, w: w, h: h, color.raw) }
    public mutating func strokeRect(x: Int, y: Int, w: Int, h: Int, _ color: Color, thickness: Int = 1) {
        image.strokeRect(x: x, y: y, w: w, h: h, color.raw, thickness: thickness)
    }
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: Color, thickness: Int = 1) {
        image.line(x0, y0, x1, y1, color.raw, thickness: thickness)
    }
    /// Draws text with its top-left corner at (x, y); returns the advance width.
    @discardableResult
    public mutating func text(_ s: String, x: Int, y: Int, font: Font, _ color: Color) -> Int {
        image.text(s, x: x, y: y, Self.face(font), color.raw)
    }
    public static func textWidth(_ s: String, font: Font) -> Int { BitmapFont.face(face(font)).width(s) }
    public static func lineHeight(_ font: Font) -> Int { BitmapFont.face(face(font)).lineHeight }

    /// The image as PNG bytes (libpng).
    public func pngData() throws -> Data { try ImageFile.encodePNG(width: image.width, height: image.height, channels: 3, bytes: image.pixels) }

    static func face(_ f: Font) -> BitmapFont.Face {
        switch f { case .regular13: .regular13; case .regular16: .regular16; case .bold16: .bold16; case .bold26: .bold26 }
    }
}
