import CDcmBridge
import Foundation

/// Writes any rendered RGB image (e.g. an explainability overlay) as a Secondary Capture in the study of the
/// analysed image, through the same DCMTK path as the report page. Added for the Explain module.
/// TODO(reports): share `context`/`imageRef`/`call` with ReportWriter.swift once those are not `private` there.
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
        let seriesUID = try captureUID(), sopUID = try captureUID()
        var sc = dcmb_sc_input()
        var c = dcmb_context()
        c.patient_id = pool.c(input.patient.id)
        c.issuer_of_patient_id = pool.c(input.patient.issuer)
        c.patient_name = pool.c(input.patient.name)
        c.patient_sex = pool.c(input.patient.sex)
        c.patient_birth_date = pool.c(input.patient.birthDate)
        c.study_instance_uid = pool.c(input.study.studyInstanceUID)
        c.study_date = pool.c(input.study.date)
        c.study_time = pool.c(input.study.time)
        c.study_id = pool.c(input.study.studyID)
        c.accession_number = pool.c(input.study.accessionNumber)
        c.study_description = pool.c(input.study.description)
        c.referring_physician_name = pool.c(input.study.referringPhysicianName)
        c.manufacturer = pool.c(Self.manufacturer)
        c.manufacturer_model_name = pool.c("Brixia \(input.model.name)")
        c.software_versions = pool.c("\(input.equipment.softwareVersion)\\\(input.model.name) \(input.model.version)")
        c.institution_name = pool.c(input.equipment.institutionName)
        c.device_serial_number = pool.c(input.equipment.deviceSerialNumber)
        c.series_instance_uid = pool.c(seriesUID)
        c.sop_instance_uid = pool.c(sopUID)
        c.series_number = pool.c(String(seriesNumber))
        c.instance_number = pool.c("1")
        c.series_description = pool.c(seriesDescription)
        let (d, t) = DicomDateTime.split(input.created)
        c.content_date = pool.c(d)
        c.content_time = pool.c(t)
        sc.context = c
        var r = dcmb_image_ref()
        r.study_instance_uid = pool.c(input.study.studyInstanceUID)
        r.series_instance_uid = pool.c(input.source.seriesInstanceUID)
        r.sop_class_uid = pool.c(input.source.sopClassUID)
        r.sop_instance_uid = pool.c(input.source.sopInstanceUID)
        r.modality = pool.c(input.source.modality)
        r.study_date = pool.c(input.study.date)
        sc.source = r
        sc.derivation_description = pool.c(derivationDescription)
        sc.rows = UInt32(image.height)
        sc.cols = UInt32(image.width)
        let filename = "BRIXIA_SC_\(sopUID).dcm"
        var err = [CChar](repeating: 0, count: 1024)
        let dir = directory.standardizedFileURL.path
        let rc = image.pixels.withUnsafeBufferPointer { px -> Int32 in
            sc.rgb = px.baseAddress
            return dir.withCString { dp in
                filename.withCString { np in err.withUnsafeMutableBufferPointer { dcmb_write_sc(dp, np, &sc, $0.baseAddress!, $0.count) } }
            }
        }
        if rc != 0 {
            let detail = String(cString: err), path = directory.appendingPathComponent(filename).path
            switch rc {
            case Int32(DCMB_WRITE_DIRECTORY_MISSING.rawValue): throw ReportError.directoryMissing(path: dir, detail: detail)
            case Int32(DCMB_WRITE_NOT_WRITABLE.rawValue): throw ReportError.notWritable(path: dir, detail: detail)
            case Int32(DCMB_WRITE_DISK_FULL.rawValue): throw ReportError.diskFull(path: path, detail: detail)
            case Int32(DCMB_WRITE_IO_ERROR.rawValue): throw ReportError.ioFailure(path: path, detail: detail)
            case Int32(DCMB_WRITE_INVALID_INPUT.rawValue): throw ReportError.invalidInput(field: path, reason: detail)
            default: throw ReportError.encodingFailed(path: path, detail: detail)
            }
        }
        return WrittenObject(path: directory.appendingPathComponent(filename), sopInstanceUID: sopUID,
                             seriesInstanceUID: seriesUID, sopClassUID: Self.scSOPClassUID)
    }

    private func captureUID() throws -> String {
        let uid = DicomUID.make(root: uidRoot)
        guard DicomUID.isValid(uid) else {
            throw ReportError.invalidInput(field: "uidRoot", reason: "'\(uidRoot)' does not give valid UIDs of <= 64 characters")
        }
        return uid
    }
}
