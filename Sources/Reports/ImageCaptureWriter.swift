import CDcmBridge
import Foundation

/// Writes any rendered RGB image (e.g. an explainability overlay) as a Secondary Capture in the study of the
/// analysed image, through the same DCMTK path as the report page. Added for the Explain module.
extension ReportWriter {
    public func writeImageSecondaryCapture(_ image: RenderedImage, for input: ReportInput, seriesNumber: Int,
                                           seriesDescription: String, derivationDescription: String,
                                           to directory: URL) throws -> WrittenObject {
        try validate(input)
        for (field, text) in [("seriesDescription", seriesDescription), ("derivationDescription", derivationDescription)] where text.isEmpty {
            throw ReportError.invalidInput(field: field, reason: "empty")
        }
        guard seriesDescription.count <= 64 else {
            throw ReportError.invalidInput(field: "seriesDescription", reason: "longer than 64 characters (LO)")
        }
        let pool = CStringPool()
        let seriesUID = try newUID(), sopUID = try newUID()
        var sc = dcmb_sc_input()
        sc.context = context(input, pool: pool, seriesUID: seriesUID, sopUID: sopUID,
                             seriesNumber: seriesNumber, description: seriesDescription)
        sc.source = imageRef(input.source, studyUID: input.study.studyInstanceUID, studyDate: input.study.date, pool: pool)
        sc.derivation_description = pool.c(derivationDescription)
        sc.rows = UInt32(image.height)
        sc.cols = UInt32(image.width)
        let filename = "BRIXIA_SC_\(sopUID).dcm"
        try image.pixels.withUnsafeBufferPointer { px in
            sc.rgb = px.baseAddress
            try call(directory, filename) { d, n, e, len in dcmb_write_sc(d, n, &sc, e, len) }
        }
        return WrittenObject(path: directory.appendingPathComponent(filename), sopInstanceUID: sopUID,
                             seriesInstanceUID: seriesUID, sopClassUID: Self.scSOPClassUID)
    }
}
