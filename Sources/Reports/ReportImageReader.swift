import CDcmBridge
import Foundation
import Imaging

/// Reads a rendered report page (the Secondary Capture Brixia wrote) back as PNG, so the web console
/// shows exactly the pixels that went to PACS instead of re-drawing them.
public enum ReportImageReader {
    /// Larger images are refused: the page Brixia renders is far smaller, anything bigger is not ours.
    public static let maxPixels: UInt64 = 16_000_000

    public static func png(path: String) throws -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        var rows: Int32 = 0, cols: Int32 = 0
        var err = [CChar](repeating: 0, count: 512)
        let rc = dcmb_read_rgb8(path, maxPixels, &out, &rows, &cols, &err, err.count)
        guard rc == 0, let out else {
            let message = err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw ReportError.ioFailure(path: path, detail: message)
        }
        defer { dcmb_free_rgb(out) }
        let bytes = Array(UnsafeBufferPointer(start: out, count: Int(rows) * Int(cols) * 3))
        return try ImageFile.encodePNG(width: Int(cols), height: Int(rows), channels: 3, bytes: bytes)
    }
}
