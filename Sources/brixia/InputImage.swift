import ArgumentParser
import DicomKit
import Imaging

/// The image a command reads: a DICOM file, or a PNG/JPEG when the file is not DICOM.
enum InputImage {
    /// The display image, and the DICOM file when it was one (its header, e.g. for eligibility or a SEG).
    static func open(_ path: String) throws -> (image: DisplayImage, dicom: DicomFile?) {
        do {
            let f = try DicomFile(path: path)
            return (try display(f), f)
        } catch DicomError.notDicom {
            do { return (try DisplayImage.read(path: path), nil) } catch {
                // Both readers refused it: say so, not only the last one's reason.
                throw ValidationError("\(path): neither DICOM (no DICM preamble or dataset start) nor a readable PNG/JPEG (\(error))")
            }
        }
    }

    /// A DICOM file's pixels as the model's preprocessing expects them (modality and VOI applied).
    static func display(_ f: DicomFile) throws -> DisplayImage {
        let (px, _) = try f.decodeDisplay()
        return try DisplayImage(width: px.width, height: px.height, pixels: px.values)
    }
}
