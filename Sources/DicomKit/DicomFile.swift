import CDcmBridge
#if canImport(Glibc)
import Glibc
#endif

/// Pixels decoded from a DICOM instance.
public struct DicomPixels<Value: Sendable>: Sendable {
    public let width: Int
    public let height: Int
    /// Row-major, width * height values.
    public let values: [Value]
}

/// How the display image was windowed.
public enum VOISource: String, Sendable {
    case window = "window"              // first WindowCenter/WindowWidth pair
    case voiLUT = "voiLUT"              // first VOI LUT Sequence item
    case fullRange = "fullRange"        // <= 8 bits without rescale: v / (2^bits - 1)
    case minMax = "minMax"              // min-max of the modality values
}

/// A loaded DICOM file (header + pixel data in memory). Not shared between threads; open one per task.
public final class DicomFile {
    public let path: String
    public let instance: DicomInstance
    public let limits: DicomLimits
    private let handle: OpaquePointer

    /// Reads and parses `path`. Throws `DicomError` naming the file and the reason. Files over
    /// `limits.maxFileBytes` are refused before they are read; the other limits apply to the pixel checks.
    public init(path: String, limits: DicomLimits = .default) throws {
        self.path = path
        self.limits = limits
        var st = stat()
        if stat(path, &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { throw DicomError.fileNotFound(path: path) }
            throw DicomError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw DicomError.isDirectory(path: path) }
        if (st.st_mode & S_IFMT) != S_IFREG { throw DicomError.unreadable(path: path, reason: "not a regular file") }
        if st.st_size == 0 { throw DicomError.emptyFile(path: path) }
        var status: Int32 = 0
        var err = [CChar](repeating: 0, count: 512)
        var bridgeLimits = limits.bridge
        guard let h = dcmb_open_limited(path, &bridgeLimits, &status, &err, err.count) else {
            let msg = String(cString: err)
            // The file may have vanished between stat and open.
            if access(path, F_OK) != 0 { throw DicomError.fileNotFound(path: path) }
            throw DicomFile.error(status: status, message: msg, path: path, ts: "")
        }
        handle = h
        instance = DicomFile.readInstance(handle: h, path: path)
    }

    deinit { dcmb_close(handle) }

    /// Header only, closing the file at once.
    public static func readInstance(path: String, limits: DicomLimits = .default) throws -> DicomInstance {
        try DicomFile(path: path, limits: limits).instance
    }

    /// Checks the declared image geometry (Rows, Columns, NumberOfFrames, Bits Allocated/Stored, High Bit,
    /// Samples per Pixel, Pixel Representation, Planar Configuration) for consistency, against `limits` and
    /// against the Pixel Data present, without decoding or allocating anything image-sized. Passes when there
    /// is no Pixel Data (eligibility reports that).
    public func checkPixelGeometry() throws {
        var err = [CChar](repeating: 0, count: 512)
        try check(dcmb_check_pixels(handle, &err, err.count), err)
    }

    // MARK: decoding

    /// Display image in [0,1], 0 = black, 1 = white as a radiologist sees it.
    public func decodeDisplay() throws -> (pixels: DicomPixels<Float>, voi: VOISource) {
        let n = try capacity()
        var out = [Float](repeating: 0, count: n)
        var rows: Int32 = 0, cols: Int32 = 0, voi: Int32 = 0
        var err = [CChar](repeating: 0, count: 512)
        let rc = out.withUnsafeMutableBufferPointer {
            dcmb_decode_display(handle, $0.baseAddress, $0.count, &rows, &cols, &voi, &err, err.count)
        }
        try check(rc, err)
        let source: VOISource = [1: .window, 2: .voiLUT, 3: .fullRange][voi] ?? .minMax
        return (DicomPixels(width: Int(cols), height: Int(rows), values: Self.trimmed(out, Int(rows), Int(cols))), source)
    }

    /// Modality values (rescale or modality LUT applied; no VOI, no inversion).
    public func decodeModality() throws -> DicomPixels<Double> {
        let n = try capacity()
        var out = [Double](repeating: 0, count: n)
        var rows: Int32 = 0, cols: Int32 = 0
        var err = [CChar](repeating: 0, count: 512)
        let rc = out.withUnsafeMutableBufferPointer {
            dcmb_decode_modality(handle, $0.baseAddress, $0.count, &rows, &cols, &err, err.count)
        }
        try check(rc, err)
        return DicomPixels(width: Int(cols), height: Int(rows), values: Self.trimmed(out, Int(rows), Int(cols)))
    }

    /// Stored values (masked to BitsStored, sign-extended when signed); for bit-identity checks.
    public func decodeStored() throws -> DicomPixels<Int32> {
        let n = try capacity()
        var out = [Int32](repeating: 0, count: n)
        var rows: Int32 = 0, cols: Int32 = 0
        var err = [CChar](repeating: 0, count: 512)
        let rc = out.withUnsafeMutableBufferPointer {
            dcmb_decode_stored(handle, $0.baseAddress, $0.count, &rows, &cols, &err, err.count)
        }
        try check(rc, err)
        return DicomPixels(width: Int(cols), height: Int(rows), values: Self.trimmed(out, Int(rows), Int(cols)))
    }

    /// The output size, after every check the decoders make: nothing is allocated for a declared size that
    /// the limits or the Pixel Data length refuse.
    private func capacity() throws -> Int {
        let g = instance.geometry
        guard instance.hasPixelData else { throw DicomError.missingPixelData(path: path) }
        var err = [CChar](repeating: 0, count: 512)
        try check(dcmb_check_decodable(handle, &err, err.count), err)
        guard g.rows > 0, g.columns > 0, g.rows <= 65535, g.columns <= 65535 else {
            throw DicomError.invalidGeometry(path: path, reason: "invalid image size \(g.columns)x\(g.rows)")
        }
        return g.rows * g.columns
    }

    /// The decoded values without a copy when the buffer is exactly full (it always is for a checked header).
    private static func trimmed<T>(_ out: [T], _ rows: Int, _ cols: Int) -> [T] {
        let n = max(0, rows) * max(0, cols)
        return n == out.count ? out : Array(out.prefix(n))
    }

    private func check(_ rc: Int32, _ err: [CChar]) throws {
        if rc == 0 { return }
        throw DicomFile.error(status: rc, message: String(cString: err), path: path, ts: instance.transferSyntaxUID)
    }

    static func error(status: Int32, message: String, path: String, ts: String) -> DicomError {
        switch UInt32(bitPattern: status) {
        case DCMB_ERR_NOT_DICOM.rawValue: return .notDicom(path: path, reason: message)
        case DCMB_ERR_TRUNCATED.rawValue: return .truncated(path: path, reason: message)
        case DCMB_ERR_PARSE.rawValue: return .corrupt(path: path, reason: message)
        case DCMB_ERR_UNSUPPORTED_TS.rawValue:
            var uid = ts
            if uid.isEmpty, let r = message.range(of: "transfer syntax ") { uid = String(message[r.upperBound...]) }
            return .unsupportedTransferSyntax(path: path, uid: uid, name: TransferSyntax.name(uid))
        case DCMB_ERR_NO_PIXEL_DATA.rawValue: return .missingPixelData(path: path)
        case DCMB_ERR_PIXEL_SHORT.rawValue: return .pixelDataTooShort(path: path, reason: message)
        case DCMB_ERR_MULTIFRAME.rawValue:
            let digits = message.drop(while: { !$0.isNumber }).prefix(while: { $0.isNumber })
            return .multiFrame(path: path, frames: Int(digits) ?? 0)
        case DCMB_ERR_COLOUR.rawValue: return .notMonochrome(path: path, reason: message)
        case DCMB_ERR_DECODE.rawValue: return .decodeFailed(path: path, reason: message)
        case DCMB_ERR_IO.rawValue: return .unreadable(path: path, reason: message)
        case DCMB_ERR_BAD_GEOMETRY.rawValue: return .invalidGeometry(path: path, reason: message)
        case DCMB_ERR_LIMIT.rawValue: return .limitExceeded(path: path, reason: message)
        case DCMB_ERR_CHARSET.rawValue: return .unsupportedCharacterSet(path: path, reason: message)
        default: return .internalError(path: path, reason: message)
        }
    }

    // MARK: header

    private static func readInstance(handle h: OpaquePointer, path: String) -> DicomInstance {
        /// A value through a dcmb_get_*string call (buffer, length -> full length or -1), in a buffer grown to fit.
        func read(_ get: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> [UInt8] {
            var buf = [CChar](repeating: 0, count: 1024)
            var n = buf.withUnsafeMutableBufferPointer { get($0.baseAddress!, $0.count) }
            if n < 0 { return [] }
            if Int(n) >= buf.count {
                buf = [CChar](repeating: 0, count: Int(n) + 1)
                n = buf.withUnsafeMutableBufferPointer { get($0.baseAddress!, $0.count) }
            }
            return buf.prefix(max(0, Int(n))).map { UInt8(bitPattern: $0) }
        }
        func bytes(_ g: UInt16, _ e: UInt16) -> [UInt8] { read { dcmb_get_string(h, g, e, $0, $1) } }
        func str(_ g: UInt16, _ e: UInt16) -> String {
            DicomText.latin1(bytes(g, e)).trimmed(" \0")
        }
        func number(_ g: UInt16, _ e: UInt16, _ i: UInt32 = 0) -> Double? {
            var v = 0.0
            return dcmb_get_number(h, g, e, i, &v) != 0 ? v : nil
        }
        func numbers(_ g: UInt16, _ e: UInt16) -> [Double] {
            let n = max(0, Int(dcmb_value_count(h, g, e)))
            return (0..<n).compactMap { number(g, e, UInt32($0)) }
        }
        func int(_ g: UInt16, _ e: UInt16, _ def: Int) -> Int { number(g, e).map { Int($0) } ?? def }

        // dcmb_open converted the dataset to UTF-8 (it now says ISO_IR 192) unless nothing was declared.
        let charset = str(0x0008, 0x0005)
        func text(_ g: UInt16, _ e: UInt16) -> String {
            DicomText.decode(bytes(g, e), characterSet: charset).trimmed(" \0")
        }
        func itemText(_ sg: UInt16, _ se: UInt16, _ i: UInt32, _ g: UInt16, _ e: UInt16) -> String {
            DicomText.decode(read { dcmb_get_item_string(h, sg, se, i, g, e, $0, $1) }, characterSet: charset).trimmed(" \0")
        }
        var declared = [CChar](repeating: 0, count: 256)
        _ = dcmb_declared_charset(h, &declared, declared.count)
        let issuer = DicomInstance.Issuer(localNamespace: itemText(0x0008, 0x0051, 0, 0x0040, 0x0031),
                                          universalID: itemText(0x0008, 0x0051, 0, 0x0040, 0x0032),
                                          universalIDType: itemText(0x0008, 0x0051, 0, 0x0040, 0x0033))
        // Bounded: a hostile file may carry thousands of items; 16 other IDs is more than any real patient has.
        let otherIDs = (0..<UInt32(min(16, max(0, Int(dcmb_sequence_count(h, 0x0010, 0x1002)))))).compactMap { i in
            let id = itemText(0x0010, 0x1002, i, 0x0010, 0x0020)
            return id.isEmpty ? nil : DicomInstance.OtherPatientID(id: id, issuer: itemText(0x0010, 0x1002, i, 0x0010, 0x0021),
                                                                   type: itemText(0x0010, 0x1002, i, 0x0010, 0x0022))
        }
        var tsBuf = [CChar](repeating: 0, count: 128)
        _ = dcmb_transfer_syntax(h, &tsBuf, tsBuf.count)
        var present: Int32 = 0, enc: Int32 = 0, len: UInt64 = 0
        dcmb_pixel_info(h, &present, &enc, &len)

        func spacing(_ g: UInt16, _ e: UInt16, _ src: DicomInstance.PixelSpacing.Source) -> DicomInstance.PixelSpacing? {
            let v = numbers(g, e)
            guard v.count >= 2, v[0] > 0, v[1] > 0, v[0].isFinite, v[1].isFinite else { return nil }
            return .init(row: v[0], column: v[1], source: src)
        }
        let imageType = str(0x0008, 0x0008).split(separator: "\\", omittingEmptySubsequences: false)
            .map { String($0).trimmed(" ") }
        // Only the first few items matter (a view code sequence has one); a hostile count is not walked.
        let viewCodes = (0..<min(8, max(0, Int(dcmb_sequence_count(h, 0x0054, 0x0220))))).map {
            DicomInstance.CodedEntry(value: itemText(0x0054, 0x0220, UInt32($0), 0x0008, 0x0100),
                                     scheme: itemText(0x0054, 0x0220, UInt32($0), 0x0008, 0x0102),
                                     meaning: itemText(0x0054, 0x0220, UInt32($0), 0x0008, 0x0104))
        }
        var result = DicomInstance(
            path: path,
            hasFileMeta: dcmb_has_meta(h) != 0,
            transferSyntaxUID: String(cString: tsBuf),
            specificCharacterSet: String(cString: declared).trimmed(" \0"),
            patient: .init(id: text(0x0010, 0x0020), issuerOfPatientID: text(0x0010, 0x0021), name: text(0x0010, 0x0010),
                           sex: str(0x0010, 0x0040), birthDate: str(0x0010, 0x0030), speciesDescription: text(0x0010, 0x2201),
                           age: str(0x0010, 0x1010), otherIDs: otherIDs),
            study: .init(instanceUID: str(0x0020, 0x000D), date: str(0x0008, 0x0020), time: str(0x0008, 0x0030),
                         accessionNumber: text(0x0008, 0x0050), description: text(0x0008, 0x1030),
                         id: text(0x0020, 0x0010), referringPhysicianName: text(0x0008, 0x0090),
                         accessionIssuer: issuer.isEmpty ? nil : issuer, timezoneOffsetFromUTC: str(0x0008, 0x0201)),
            series: .init(instanceUID: str(0x0020, 0x000E), number: number(0x0020, 0x0011).map { Int($0) },
                          modality: str(0x0008, 0x0060), bodyPartExamined: str(0x0018, 0x0015),
                          viewPosition: str(0x0018, 0x5101), description: text(0x0008, 0x103E),
                          manufacturer: text(0x0008, 0x0070), protocolName: text(0x0018, 0x1030)),
            instance: .init(sopClassUID: str(0x0008, 0x0016), sopInstanceUID: str(0x0008, 0x0018),
                            acquisitionDate: str(0x0008, 0x0022), acquisitionTime: str(0x0008, 0x0032),
                            imageType: imageType == [""] ? [] : imageType,
                            numberOfFrames: int(0x0028, 0x0008, 1),
                            presentationIntentType: str(0x0008, 0x0068),
                            acquisitionDeviceProcessingDescription: text(0x0018, 0x1400),
                            patientOrientation: str(0x0020, 0x0020), imageLaterality: str(0x0020, 0x0062)),
            geometry: .init(rows: int(0x0028, 0x0010, 0), columns: int(0x0028, 0x0011, 0),
                            bitsAllocated: int(0x0028, 0x0100, 0), bitsStored: int(0x0028, 0x0101, 0),
                            pixelRepresentation: int(0x0028, 0x0103, 0), samplesPerPixel: int(0x0028, 0x0002, 1),
                            photometricInterpretation: str(0x0028, 0x0004),
                            pixelSpacing: spacing(0x0028, 0x0030, .pixelSpacing) ?? spacing(0x0018, 0x1164, .imagerPixelSpacing)),
            presentation: .init(windowCenters: numbers(0x0028, 0x1050), windowWidths: numbers(0x0028, 0x1051),
                                voiLUTCount: max(0, Int(dcmb_sequence_count(h, 0x0028, 0x3010))),
                                presentationLUTShape: str(0x2050, 0x0020),
                                rescaleSlope: number(0x0028, 0x1053) ?? 1, rescaleIntercept: number(0x0028, 0x1052) ?? 0),
            hasPixelData: present != 0,
            pixelDataEncapsulated: enc != 0
        )
        result.viewCodes = viewCodes
        result.lossyImageCompression = str(0x0028, 0x2110)
        result.lossyImageCompressionRatio = numbers(0x0028, 0x2112)
        result.lossyImageCompressionMethod = str(0x0028, 0x2114).split(separator: "\\").map { String($0).trimmed(" ") }
            .filter { !$0.isEmpty }
        return result
    }
}
