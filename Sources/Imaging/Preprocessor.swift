/// The authors' input preprocessing: gray [0,1] -> 512x512 bilinear (OpenCV INTER_LINEAR) -> 12-bit
/// histogram equalisation -> / max. See docs/dicom-input.md for the quantisation of 12-16-bit images.
public enum Preprocessor {
    public static let size = 512

    /// Display values as Double, snapped to the 16-bit grid of the DICOM renderer (1/65535). That makes
    /// 8-bit sources exactly v/255 as in the authors' float64 path, whatever their Float rounding.
    public static func toDouble(_ image: DisplayImage) -> [Double] {
        image.pixels.map { (Double(min(max($0, 0), 1)) * 65535).rounded() / 65535 }
    }

    /// Step 1: resize to 512x512 (values stay in [0,1]).
    public static func resized(_ image: DisplayImage) -> [Double] {
        Resize.bilinear(toDouble(image), width: image.width, height: image.height, toWidth: size, toHeight: size)
    }

    /// Step 2: equalise and scale by the maximum.
    public static func equalized(_ resized: [Double]) -> [Double] { Equalize.equalize(resized) }

    /// The model input: 512*512 Float32, row-major, in [0,1].
    public static func modelInput(from image: DisplayImage) -> [Float] {
        equalized(resized(image)).map { Float($0) }
    }
}
