import CDcmBridge
import Foundation

/// A one-frame FRACTIONAL (probability) DICOM Segmentation on the grid of the analysed image, e.g. the
/// explainability strength map, in the study of that image (CDcmBridge; see dcmbridge_seg.cpp for why not dcmseg).
extension ReportWriter {
    public static let segSOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"

    /// A coded concept (code value, coding scheme designator, code meaning).
    public struct CodedConcept: Sendable, Equatable {
        public var value: String, scheme: String, meaning: String
        public init(_ value: String, _ scheme: String, _ meaning: String) { self.value = value; self.scheme = scheme; self.meaning = meaning }
    }
    /// The segment's Segmented Property Category and Type.
    public struct SegmentProperty: Sendable, Equatable {
        public var category: CodedConcept
        public var type: CodedConcept
        public init(category: CodedConcept, type: CodedConcept) { self.category = category; self.type = type }
    }

    /// `fractions`: rows*columns values (row-major), 0...255 meaning 0...1; rows and columns must be the
    /// analysed image's, because a segmentation without a frame of reference maps to its source pixel by pixel.
    public func writeFractionalSegmentation(_ fractions: [UInt8], rows: Int, columns: Int, for input: ReportInput,
                                            patientOrientation: String, pixelSpacing: (row: Double, column: Double)?, seriesNumber: Int, seriesDescription: String,
                                            segmentLabel: String, segmentDescription: String, property: SegmentProperty,
                                            derivationDescription: String, to directory: URL) throws -> WrittenObject {
        try validate(input)
        guard rows > 0, columns > 0, rows <= 65535, columns <= 65535 else {
            throw ReportError.invalidInput(field: "rows/columns", reason: "\(rows)x\(columns) is not a DICOM image size")
        }
        guard fractions.count == rows * columns else {
            throw ReportError.invalidInput(field: "fractions", reason: "\(fractions.count) values for \(rows)x\(columns) pixels")
        }
        for (field, text, limit) in [("seriesDescription", seriesDescription, 64), ("segmentLabel", segmentLabel, 64)] {
            guard !text.isEmpty, text.count <= limit else {
                throw ReportError.invalidInput(field: field, reason: "must be 1-\(limit) characters (LO)")
            }
        }
        let pool = CStringPool()
        let seriesUID = try newUID(), sopUID = try newUID()
        var seg = dcmb_seg_input()
        seg.context = context(input, pool: pool, seriesUID: seriesUID, sopUID: sopUID,
                              seriesNumber: seriesNumber, description: seriesDescription)
        seg.source = imageRef(input.source, studyUID: input.study.studyInstanceUID, studyDate: input.study.date, pool: pool)
        seg.patient_orientation = pool.c(patientOrientation)
        seg.content_label = pool.c("BRIXIA_AI_MAP")
        seg.content_description = pool.c("AI generated, not verified by a physician")
        seg.segment_label = pool.c(segmentLabel)
        seg.segment_description = pool.c(segmentDescription)
        seg.algorithm_name = pool.c("\(input.model.name) \(input.model.version)")
        seg.derivation_description = pool.c(derivationDescription)
        seg.category = dcmb_code(value: pool.c(property.category.value), scheme: pool.c(property.category.scheme),
                                 meaning: pool.c(property.category.meaning))
        seg.type = dcmb_code(value: pool.c(property.type.value), scheme: pool.c(property.type.scheme),
                             meaning: pool.c(property.type.meaning))
        seg.pixel_spacing_row = pixelSpacing?.row ?? 0
        seg.pixel_spacing_col = pixelSpacing?.column ?? 0
        seg.dimension_organization_uid = pool.c(try newUID())
        seg.rows = UInt32(rows)
        seg.cols = UInt32(columns)
        let filename = "BRIXIA_SEG_\(sopUID).dcm"
        try fractions.withUnsafeBufferPointer { px in
            seg.fractions = px.baseAddress
            try call(directory, filename) { d, n, e, len in dcmb_write_seg(d, n, &seg, e, len) }
        }
        return WrittenObject(path: directory.appendingPathComponent(filename), sopInstanceUID: sopUID,
                             seriesInstanceUID: seriesUID, sopClassUID: Self.segSOPClassUID)
    }
}
