import BrixiaDomain
import CDcmBridge
import Foundation
import Imaging

/// Writes the Brixia DICOM outputs (Comprehensive SR and rendered Secondary Capture) into the study of
/// the analysed image, each in a new series with fresh UIDs.
public struct ReportWriter: Sendable {
    public static let manufacturer = "Brixia"
    public static let srSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    public static let scSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"

    public let uidRoot: String
    public var srSeriesNumber: Int
    public var scSeriesNumber: Int

    /// - Parameter uidRoot: UIDs are `<uidRoot>.<UUID as decimal>`; the default 2.25 needs no registration.
    ///   A longer root must leave room for up to 39 digits within 64 characters.
    public init(uidRoot: String = "2.25", srSeriesNumber: Int = 9901, scSeriesNumber: Int = 9902) {
        self.uidRoot = uidRoot
        self.srSeriesNumber = srSeriesNumber
        self.scSeriesNumber = scSeriesNumber
    }

    public func writeSR(_ input: ReportInput, to directory: URL) throws -> WrittenObject {
        try validate(input)
        let pool = CStringPool()
        let seriesUID = try input.amendment?.replacedSRSeriesUID ?? newUID(), sopUID = try newUID()
        var sr = dcmb_sr_input()
        sr.context = context(input, pool: pool, seriesUID: seriesUID, sopUID: sopUID, seriesNumber: srSeriesNumber,
                             description: "Brixia AI score (SR) - not verified by a physician")
        applyAmendment(input.amendment, to: &sr, pool: pool)
        sr.source = imageRef(input.source, studyUID: input.study.studyInstanceUID, studyDate: input.study.date, pool: pool)
        if let prior = input.prior {
            sr.has_prior = 1
            sr.prior = imageRef(prior.image, studyUID: prior.studyInstanceUID, studyDate: prior.studyDate, pool: pool)
            sr.prior_global = Int32(prior.global)
        }
        sr.device_observer_uid = pool.c(try input.equipment.deviceUID ?? newUID())
        sr.device_observer_name = pool.c("\(Self.manufacturer) \(input.model.name)")
        sr.algorithm_name = pool.c(input.model.name)
        sr.algorithm_version = pool.c(input.model.version)
        sr.weights_sha256 = pool.c(input.model.weightsSHA256)
        sr.tracking_identifier = pool.c(BrixiaCodes.globalTrackingIdentifier)
        sr.tracking_uid = pool.c(try input.tracking?.global ?? newUID())
        var zones: [dcmb_sr_zone] = []
        for zone in Zone.allCases {
            let z = input.scores.zones.first { $0.zone == zone }!
            var cz = dcmb_sr_zone()
            cz.concept = code(BrixiaCodes.zoneScore(zone), pool)
            cz.tracking_identifier = pool.c(BrixiaCodes.trackingIdentifier(zone))
            cz.tracking_uid = pool.c(try input.tracking?.zones[zone] ?? newUID())
            cz.finding_site = code(BrixiaCodes.findingSite(zone), pool)
            cz.laterality = code(BrixiaCodes.laterality(zone), pool)
            cz.label = pool.c(zone.rawValue)
            cz.grade = Int32(z.grade)
            if z.probabilities.count == 4 {
                cz.has_probabilities = 1
                cz.probabilities = (z.probabilities[0], z.probabilities[1], z.probabilities[2], z.probabilities[3])
            }
            if let c = z.confidence { cz.has_confidence = 1; cz.confidence = c }
            zones.append(cz)
        }
        withUnsafeMutableBytes(of: &sr.zones) { raw in
            let p = raw.bindMemory(to: dcmb_sr_zone.self)
            for i in 0..<6 { p[i] = zones[i] }
        }
        sr.global = Int32(input.scores.global)
        if let c = input.scores.confidence { sr.has_confidence = 1; sr.confidence = c }
        if let change = input.change {
            sr.has_change = 1
            sr.delta = Int32(change.delta)
            sr.trend = code(BrixiaCodes.trend(change.trend), pool)
        }
        let alerts = input.alerts.map { code(.init(value: $0.code, scheme: $0.scheme, meaning: $0.meaning), pool) }
        sr.alert_count = alerts.count
        sr.disclaimer = pool.c(BrixiaCodes.disclaimer)
        sr.input_note = pool.c(input.sourceProvenance?.text)

        let filename = "BRIXIA_SR_\(sopUID).dcm"
        try call(directory, filename) { dir, name, err, len in
            alerts.withUnsafeBufferPointer { buf in
                sr.alerts = buf.baseAddress
                return dcmb_write_sr(dir, name, &sr, err, len)
            }
        }
        return WrittenObject(path: directory.appendingPathComponent(filename), sopInstanceUID: sopUID,
                             seriesInstanceUID: seriesUID, sopClassUID: Self.srSOPClassUID)
    }

    public func writeSecondaryCapture(_ input: ReportInput, trend: [TrendPoint], to directory: URL) throws -> WrittenObject {
        try validate(input)
        let image = ReportRenderer.render(input, trend: trend)
        let pool = CStringPool()
        let seriesUID = try input.amendment?.replacedRenderingSeriesUID ?? newUID(), sopUID = try newUID()
        var sc = dcmb_sc_input()
        sc.context = context(input, pool: pool, seriesUID: seriesUID, sopUID: sopUID, seriesNumber: scSeriesNumber,
                             description: "Brixia AI report - not for diagnostic use")
        sc.source = imageRef(input.source, studyUID: input.study.studyInstanceUID, studyDate: input.study.date, pool: pool)
        sc.derivation_description = pool.c("Rendered Brixia score report (\(input.model.name) \(input.model.version)); AI generated, not for diagnostic use")
        if let p = input.sourceProvenance, p.lossy {
            sc.source_lossy = 1
            sc.lossy_ratio = pool.c(p.ratioValue)
            sc.lossy_method = pool.c(p.methodValue)
        }
        sc.rows = UInt32(image.height)
        sc.cols = UInt32(image.width)
        let filename = "BRIXIA_SC_\(sopUID).dcm"
        try call(directory, filename) { dir, name, err, len in
            image.pixels.withUnsafeBufferPointer { px in
                sc.rgb = px.baseAddress
                return dcmb_write_sc(dir, name, &sc, err, len)
            }
        }
        return WrittenObject(path: directory.appendingPathComponent(filename), sopInstanceUID: sopUID,
                             seriesInstanceUID: seriesUID, sopClassUID: Self.scSOPClassUID)
    }

    /// The same rendering as the Secondary Capture, as PNG bytes (for people and docs).
    public func renderPNG(_ input: ReportInput, trend: [TrendPoint]) throws -> Data {
        try validate(input)
        let image = ReportRenderer.render(input, trend: trend)
        return try ImageFile.encodePNG(width: image.width, height: image.height, channels: 3, bytes: image.pixels)
    }

    /// Writes renderPNG's bytes to `url` atomically.
    public func writePNG(_ input: ReportInput, trend: [TrendPoint], to url: URL) throws {
        let data = try renderPNG(input, trend: trend)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw ReportError.directoryMissing(path: dir, detail: "no such directory")
        }
        guard isDir.boolValue else { throw ReportError.notWritable(path: dir, detail: "not a directory") }
        do { try data.write(to: url, options: .atomic) } catch {
            throw ReportError.ioFailure(path: url.path, detail: "\(error)")
        }
    }

    // MARK: - helpers

    /// An amended SR names the SR it replaces (Predecessor Documents Sequence) and says why.
    func applyAmendment(_ a: ReportAmendment?, to sr: inout dcmb_sr_input, pool: CStringPool) {
        guard let a, let replaced = a.replacedSRInstanceUID else { return }
        sr.predecessor_sop_instance_uid = pool.c(replaced)
        sr.predecessor_series_uid = pool.c(a.replacedSRSeriesUID)
        sr.amendment_text = pool.c(String(a.reason.prefix(1024)))
    }

    func newUID() throws -> String {
        let uid = DicomUID.make(root: uidRoot)
        guard DicomUID.isValid(uid) else {
            throw ReportError.invalidInput(field: "uidRoot", reason: "'\(uidRoot)' does not give valid UIDs of <= 64 characters")
        }
        return uid
    }

    private func code(_ c: BrixiaCodes.Code, _ pool: CStringPool) -> dcmb_code {
        dcmb_code(value: pool.c(c.value), scheme: pool.c(c.scheme), meaning: pool.c(c.meaning))
    }

    func imageRef(_ image: SourceImage, studyUID: String, studyDate: String?, pool: CStringPool) -> dcmb_image_ref {
        var r = dcmb_image_ref()
        r.study_instance_uid = pool.c(studyUID)
        r.series_instance_uid = pool.c(image.seriesInstanceUID)
        r.sop_class_uid = pool.c(image.sopClassUID)
        r.sop_instance_uid = pool.c(image.sopInstanceUID)
        r.modality = pool.c(image.modality)
        r.study_date = pool.c(studyDate)
        r.rows = UInt32(clamping: image.rows ?? 0)
        r.columns = UInt32(clamping: image.columns ?? 0)
        r.patient_orientation = pool.c(image.patientOrientation)
        r.pixel_spacing_row = image.pixelSpacing?.row ?? 0
        r.pixel_spacing_col = image.pixelSpacing?.column ?? 0
        return r
    }

    func context(_ input: ReportInput, pool: CStringPool, seriesUID: String, sopUID: String,
                         seriesNumber: Int, description: String) -> dcmb_context {
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
        c.timezone_offset_from_utc = pool.c(input.study.timezoneOffsetFromUTC)
        c.patient_age = pool.c(input.patient.age)
        c.accession_issuer_local = pool.c(input.study.accessionIssuer?.localNamespace)
        c.accession_issuer_universal = pool.c(input.study.accessionIssuer?.universalID)
        c.accession_issuer_universal_type = pool.c(input.study.accessionIssuer?.universalIDType)
        let others = input.patient.otherIDs.map { dcmb_other_patient_id(id: pool.c($0.id), issuer: pool.c($0.issuer), type: pool.c($0.type)) }
        c.other_patient_ids = pool.array(others)
        c.other_patient_id_count = others.count
        c.manufacturer = pool.c(Self.manufacturer)
        c.manufacturer_model_name = pool.c("Brixia \(input.model.name)")
        c.software_versions = pool.c("\(input.equipment.softwareVersion)\\\(input.model.name) \(input.model.version)")
        c.institution_name = pool.c(input.equipment.institutionName)
        c.device_serial_number = pool.c(input.equipment.deviceSerialNumber)
        c.series_instance_uid = pool.c(seriesUID)
        c.sop_instance_uid = pool.c(sopUID)
        c.series_number = pool.c(String(seriesNumber))
        c.instance_number = pool.c(String(input.amendment?.instanceNumber ?? 1))
        c.series_description = pool.c(description)
        let (d, t) = DicomDateTime.split(input.created)
        c.content_date = pool.c(d)
        c.content_time = pool.c(t)
        return c
    }

    func call(_ directory: URL, _ filename: String,
                      _ body: (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var err = [CChar](repeating: 0, count: 1024)
        let dir = directory.standardizedFileURL.path
        let rc = dir.withCString { d in
            filename.withCString { n in
                err.withUnsafeMutableBufferPointer { body(d, n, $0.baseAddress!, $0.count) }
            }
        }
        if rc == 0 { return }
        let detail = String(cString: err)
        let path = directory.appendingPathComponent(filename).path
        switch rc {
        case Int32(DCMB_WRITE_DIRECTORY_MISSING.rawValue): throw ReportError.directoryMissing(path: dir, detail: detail)
        case Int32(DCMB_WRITE_NOT_WRITABLE.rawValue): throw ReportError.notWritable(path: dir, detail: detail)
        case Int32(DCMB_WRITE_DISK_FULL.rawValue): throw ReportError.diskFull(path: path, detail: detail)
        case Int32(DCMB_WRITE_IO_ERROR.rawValue): throw ReportError.ioFailure(path: path, detail: detail)
        case Int32(DCMB_WRITE_INVALID_INPUT.rawValue): throw ReportError.invalidInput(field: path, reason: detail)
        default: throw ReportError.encodingFailed(path: path, detail: detail)
        }
    }
}
