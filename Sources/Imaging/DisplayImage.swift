import Foundation
import CImageIO

/// A grayscale image as displayed: row-major Float, 0 = black, 1 = white.
public struct DisplayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) throws {
        guard width > 0, height > 0, pixels.count == width * height else {
            throw ImagingError.invalidImage(reason: "\(pixels.count) pixels for \(width)x\(height)")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// From 8-bit gray levels, v / 255.
    public init(width: Int, height: Int, gray8: [UInt8]) throws {
        try self.init(width: width, height: height, pixels: gray8.map { Float($0) / 255 })
    }

    /// Reads a PNG or JPEG as grayscale (OpenCV IMREAD_GRAYSCALE conversion) scaled to [0,1].
    public static func read(path: String) throws -> DisplayImage {
        let (w, h, g) = try ImageFile.readGray8(path: path)
        return try DisplayImage(width: w, height: h, gray8: g)
    }

    public var minimum: Float { pixels.min() ?? 0 }
    public var maximum: Float { pixels.max() ?? 0 }
    public var mean: Double { pixels.reduce(0.0) { $0 + Double($1) } / Double(max(1, pixels.count)) }

    /// 8-bit levels, round(clamp(v) * 255).
    public func toGray8() -> [UInt8] {
        pixels.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
    }

    /// Writes an 8-bit grayscale PNG (previews).
    public func writePNG(path: String) throws {
        try ImageFile.writePNG(path: path, width: width, height: height, channels: 1, bytes: toGray8())
    }
}

/// PNG/JPEG file access through CImageIO (libpng/libjpeg).
public enum ImageFile {
    /// 8-bit grayscale levels of a PNG or JPEG.
    public static func readGray8(path: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        var ptr: UnsafeMutablePointer<UInt8>? = nil
        var w: Int32 = 0, h: Int32 = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = imgio_read_gray8(path, &ptr, &w, &h, &err, err.count)
        defer { imgio_free(ptr) }
        let msg = String(cString: err)
        switch rc {
        case 0: break
        case 1: throw ImagingError.cannotOpen(path: path, reason: msg)
        case 2: throw ImagingError.notAnImage(path: path)
        default: throw ImagingError.corrupt(path: path, reason: msg)
        }
        guard let p = ptr, w > 0, h > 0 else { throw ImagingError.corrupt(path: path, reason: "empty image") }
        return (Int(w), Int(h), Array(UnsafeBufferPointer(start: p, count: Int(w) * Int(h))))
    }

    /// Encodes an 8-bit PNG in memory with libpng: channels 1 (gray) or 3 (RGB, interleaved).
    public static func encodePNG(width: Int, height: Int, channels: Int, bytes: [UInt8]) throws -> Data {
        guard channels == 1 || channels == 3, width > 0, height > 0, bytes.count == width * height * channels else {
            throw ImagingError.writeFailed(path: "(memory)", reason: "\(bytes.count) bytes for \(width)x\(height)x\(channels)")
        }
        var err = [CChar](repeating: 0, count: 256)
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        let rc = imgio_encode_png(bytes, Int32(width), Int32(height), Int32(channels), &out, &length, &err, err.count)
        guard rc == 0, let out else { throw ImagingError.writeFailed(path: "(memory)", reason: String(cString: err)) }
        defer { imgio_free(out) }
        return Data(bytes: out, count: length)
    }

    /// Writes an 8-bit PNG: channels 1 (gray) or 3 (RGB, interleaved).
    public static func writePNG(path: String, width: Int, height: Int, channels: Int, bytes: [UInt8]) throws {
        guard channels == 1 || channels == 3, width > 0, height > 0, bytes.count == width * height * channels else {
            throw ImagingError.writeFailed(path: path, reason: "\(bytes.count) bytes for \(width)x\(height)x\(channels)")
        }
        var err = [CChar](repeating: 0, count: 256)
        let rc = imgio_write_png(path, bytes, Int32(width), Int32(height), Int32(channels), &err, err.count)
        if rc != 0 { throw ImagingError.writeFailed(path: path, reason: String(cString: err)) }
    }
}
