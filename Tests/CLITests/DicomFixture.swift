import Foundation

/// Writes small but valid DICOM files (Part 10, explicit VR little endian) for end-to-end tests:
/// a synthetic 12-bit chest-like radiograph, so the tests need no reference data and no DCMTK tools.
struct DicomFixture {
    var patientID = "CLI-P1"
    var patientName = "Test^Patient"
    var studyUID: String
    var seriesUID: String
    var sopUID: String
    var studyDate = "20200310"
    var studyTime = "101500"
    var modality = "DX"
    var sopClass = "1.2.840.10008.5.1.4.1.1.1.1"   // DX For Presentation
    var viewPosition = "PA"
    var manufacturer = "CLI-TEST"
    var seriesDescription = "CHEST PA"
    var size = 320
    /// Changes the pixels (a different image of the same kind).
    var seed: UInt32 = 1
    /// Pre-computed pixel data (benchmarks reuse one image for many studies).
    var pixelData: Data?

    init(study: String, series: String? = nil, sop: String) {
        studyUID = study; seriesUID = series ?? study + ".1"; sopUID = sop
    }

    private struct Element { var group: UInt16; var element: UInt16; var vr: String; var value: Data }

    private static func text(_ s: String, pad: UInt8 = 0x20) -> Data {
        var d = Data(s.utf8); if d.count % 2 == 1 { d.append(pad) }; return d
    }
    private static func uid(_ s: String) -> Data { text(s, pad: 0) }
    private static func us(_ v: UInt16) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }

    private static func encode(_ e: Element) -> Data {
        var d = Data()
        d += us(e.group); d += us(e.element); d += Data(e.vr.utf8)
        if ["OB", "OW", "SQ", "UN", "UT"].contains(e.vr) {
            d += us(0); d += withUnsafeBytes(of: UInt32(e.value.count).littleEndian) { Data($0) }
        } else {
            d += us(UInt16(e.value.count))
        }
        return d + e.value
    }

    /// Smooth "lungs" on a brighter mediastinum, 12 bits stored.
    func pixels() -> Data {
        var d = Data(capacity: size * size * 2)
        var rng = seed &* 2654435761
        for y in 0..<size {
            for x in 0..<size {
                let fx = Double(x) / Double(size) - 0.5, fy = Double(y) / Double(size) - 0.5
                let lung = exp(-(pow((abs(fx) - 0.22) / 0.14, 2) + pow(fy / 0.3, 2)))
                rng = rng &* 1664525 &+ 1013904223
                let noise = Double(rng >> 24) / 255.0 * 120
                let v = min(4095, max(0, 3200 - 2400 * lung + noise))
                d += DicomFixture.us(UInt16(v))
            }
        }
        return d
    }

    func data() -> Data {
        let ts = "1.2.840.10008.1.2.1"
        var ds: [Element] = [
            .init(group: 0x0008, element: 0x0005, vr: "CS", value: Self.text("ISO_IR 100")),
            .init(group: 0x0008, element: 0x0008, vr: "CS", value: Self.text("ORIGINAL\\PRIMARY")),
            .init(group: 0x0008, element: 0x0016, vr: "UI", value: Self.uid(sopClass)),
            .init(group: 0x0008, element: 0x0018, vr: "UI", value: Self.uid(sopUID)),
            .init(group: 0x0008, element: 0x0020, vr: "DA", value: Self.text(studyDate)),
            .init(group: 0x0008, element: 0x0030, vr: "TM", value: Self.text(studyTime)),
            .init(group: 0x0008, element: 0x0060, vr: "CS", value: Self.text(modality)),
            .init(group: 0x0008, element: 0x0070, vr: "LO", value: Self.text(manufacturer)),
            .init(group: 0x0008, element: 0x103E, vr: "LO", value: Self.text(seriesDescription)),
            .init(group: 0x0010, element: 0x0010, vr: "PN", value: Self.text(patientName)),
            .init(group: 0x0010, element: 0x0020, vr: "LO", value: Self.text(patientID)),
            .init(group: 0x0018, element: 0x0015, vr: "CS", value: Self.text("CHEST")),
            .init(group: 0x0018, element: 0x5101, vr: "CS", value: Self.text(viewPosition)),
            .init(group: 0x0020, element: 0x000D, vr: "UI", value: Self.uid(studyUID)),
            .init(group: 0x0020, element: 0x000E, vr: "UI", value: Self.uid(seriesUID)),
            .init(group: 0x0020, element: 0x0011, vr: "IS", value: Self.text("1")),
            .init(group: 0x0020, element: 0x0013, vr: "IS", value: Self.text("1")),
            .init(group: 0x0028, element: 0x0002, vr: "US", value: Self.us(1)),
            .init(group: 0x0028, element: 0x0004, vr: "CS", value: Self.text("MONOCHROME2")),
            .init(group: 0x0028, element: 0x0010, vr: "US", value: Self.us(UInt16(size))),
            .init(group: 0x0028, element: 0x0011, vr: "US", value: Self.us(UInt16(size))),
            .init(group: 0x0028, element: 0x0030, vr: "DS", value: Self.text("0.5\\0.5")),
            .init(group: 0x0028, element: 0x0100, vr: "US", value: Self.us(16)),
            .init(group: 0x0028, element: 0x0101, vr: "US", value: Self.us(12)),
            .init(group: 0x0028, element: 0x0102, vr: "US", value: Self.us(11)),
            .init(group: 0x0028, element: 0x0103, vr: "US", value: Self.us(0)),
            .init(group: 0x0028, element: 0x1050, vr: "DS", value: Self.text("2048")),
            .init(group: 0x0028, element: 0x1051, vr: "DS", value: Self.text("4096")),
        ]
        ds.append(.init(group: 0x7FE0, element: 0x0010, vr: "OW", value: pixelData ?? pixels()))
        let metaBody = [
            Element(group: 0x0002, element: 0x0001, vr: "OB", value: Data([0, 1])),
            Element(group: 0x0002, element: 0x0002, vr: "UI", value: Self.uid(sopClass)),
            Element(group: 0x0002, element: 0x0003, vr: "UI", value: Self.uid(sopUID)),
            Element(group: 0x0002, element: 0x0010, vr: "UI", value: Self.uid(ts)),
            Element(group: 0x0002, element: 0x0012, vr: "UI", value: Self.uid("1.2.826.0.1.3680043.9.7777.99")),
        ].reduce(Data()) { $0 + Self.encode($1) }
        var out = Data(count: 128)
        out += Data("DICM".utf8)
        out += Self.encode(.init(group: 0x0002, element: 0x0000, vr: "UL",
                                 value: withUnsafeBytes(of: UInt32(metaBody.count).littleEndian) { Data($0) }))
        out += metaBody
        for e in ds { out += Self.encode(e) }
        return out
    }

    func write(to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data().write(to: url)
    }
}
