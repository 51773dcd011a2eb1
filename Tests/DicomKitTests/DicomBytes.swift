import Foundation

/// A small Explicit VR Little Endian DICOM writer and top-level element walker for the structure-aware tests:
/// header values, lengths and VRs can be set to anything, which DCMTK's own tools refuse to write.
struct DicomBytes {
    struct Element {
        var group: UInt16
        var element: UInt16
        var vr: String
        var value: [UInt8]
        /// Overrides the length field (a lying length); nil writes value.count.
        var lengthOverride: UInt32? = nil

        var tag: UInt32 { UInt32(group) << 16 | UInt32(element) }
        static let longVRs: Set<String> = ["OB", "OW", "OF", "OD", "OL", "SQ", "UN", "UT", "UC", "UR", "OV", "SV", "UV"]

        var bytes: [UInt8] {
            var b: [UInt8] = []
            func u16(_ v: UInt16) { b += [UInt8(v & 0xFF), UInt8(v >> 8)] }
            func u32(_ v: UInt32) { for i in 0..<4 { b.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
            u16(group); u16(element)
            let vrBytes = Array(vr.utf8.prefix(2)) + [UInt8](repeating: 0x20, count: max(0, 2 - vr.utf8.count))
            b += vrBytes
            let len = lengthOverride ?? UInt32(value.count)
            if Self.longVRs.contains(vr) { u16(0); u32(len) } else { u16(UInt16(truncatingIfNeeded: len)) }
            return b + value
        }
    }

    static func text(_ s: String, pad: UInt8 = 0x20) -> [UInt8] {
        var b = Array(s.utf8)
        if b.count % 2 == 1 { b.append(pad) }
        return b
    }
    static func uid(_ s: String) -> [UInt8] { text(s, pad: 0) }
    static func us(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

    /// Preamble, File Meta (Explicit VR LE) and the dataset elements in the order given.
    static func file(_ elements: [Element], transferSyntax: String = "1.2.840.10008.1.2.1") -> [UInt8] {
        let meta: [Element] = [
            .init(group: 2, element: 1, vr: "OB", value: [0, 1]),
            .init(group: 2, element: 2, vr: "UI", value: uid("1.2.840.10008.5.1.4.1.1.1.1")),
            .init(group: 2, element: 3, vr: "UI", value: uid("2.25.1")),
            .init(group: 2, element: 0x10, vr: "UI", value: uid(transferSyntax)),
        ]
        let body = meta.flatMap(\.bytes)
        let groupLength = Element(group: 2, element: 0, vr: "UL",
                                  value: withUnsafeBytes(of: UInt32(body.count).littleEndian, Array.init))
        return [UInt8](repeating: 0, count: 128) + Array("DICM".utf8) + groupLength.bytes + body + elements.flatMap(\.bytes)
    }

    /// A frontal DX chest image that passes every eligibility rule; `overrides` replace or add elements.
    static func chest(rows: UInt16 = 256, cols: UInt16 = 256, pixelBytes: Int? = nil, overrides: [Element] = []) -> [UInt8] {
        var els: [Element] = [
            .init(group: 0x0008, element: 0x0008, vr: "CS", value: text("ORIGINAL\\PRIMARY")),
            .init(group: 0x0008, element: 0x0016, vr: "UI", value: uid("1.2.840.10008.5.1.4.1.1.1.1")),
            .init(group: 0x0008, element: 0x0018, vr: "UI", value: uid("2.25.\(UInt64.random(in: 1...UInt64.max))")),
            .init(group: 0x0008, element: 0x0020, vr: "DA", value: text("20240115")),
            .init(group: 0x0008, element: 0x0060, vr: "CS", value: text("DX")),
            .init(group: 0x0010, element: 0x0010, vr: "PN", value: text("TEST^PATIENT")),
            .init(group: 0x0010, element: 0x0020, vr: "LO", value: text("PID-1")),
            .init(group: 0x0018, element: 0x5101, vr: "CS", value: text("PA")),
            .init(group: 0x0020, element: 0x000D, vr: "UI", value: uid("2.25.1001")),
            .init(group: 0x0020, element: 0x000E, vr: "UI", value: uid("2.25.1002")),
            .init(group: 0x0028, element: 0x0002, vr: "US", value: us(1)),
            .init(group: 0x0028, element: 0x0004, vr: "CS", value: text("MONOCHROME2")),
            .init(group: 0x0028, element: 0x0010, vr: "US", value: us(rows)),
            .init(group: 0x0028, element: 0x0011, vr: "US", value: us(cols)),
            .init(group: 0x0028, element: 0x0100, vr: "US", value: us(16)),
            .init(group: 0x0028, element: 0x0101, vr: "US", value: us(12)),
            .init(group: 0x0028, element: 0x0102, vr: "US", value: us(11)),
            .init(group: 0x0028, element: 0x0103, vr: "US", value: us(0)),
            .init(group: 0x0028, element: 0x1050, vr: "DS", value: text("2048")),
            .init(group: 0x0028, element: 0x1051, vr: "DS", value: text("4096")),
        ]
        for o in overrides {
            if let i = els.firstIndex(where: { $0.tag == o.tag }) { els[i] = o } else { els.append(o) }
        }
        els.sort { $0.tag < $1.tag }
        let n = pixelBytes ?? Int(rows) * Int(cols) * 2
        var px = [UInt8](repeating: 0, count: n + n % 2)
        for i in stride(from: 0, to: n - 1, by: 2) { px[i] = UInt8(truncatingIfNeeded: i / 2); px[i + 1] = UInt8((i / 512) & 0x0F) }
        els.append(.init(group: 0x7FE0, element: 0x0010, vr: "OW", value: px))
        return file(els)
    }

    /// Splits a file written by `file` (or any Explicit VR LE file with a preamble) into the bytes before the
    /// dataset and the top-level dataset elements. Returns nil where the walk cannot continue (undefined
    /// lengths, sequences): the caller then mutates bytes instead.
    static func parse(_ b: [UInt8]) -> (prefix: [UInt8], elements: [Element])? {
        guard b.count > 132, Array(b[128..<132]) == Array("DICM".utf8) else { return nil }
        func u16(_ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
        func u32(_ i: Int) -> UInt32 { UInt32(u16(i)) | UInt32(u16(i + 2)) << 16 }
        var pos = 132
        var prefixEnd = -1
        var els: [Element] = []
        while pos + 8 <= b.count {
            let g = u16(pos), e = u16(pos + 2)
            let vr = String(decoding: b[(pos + 4)..<(pos + 6)], as: UTF8.self)
            var len: Int, start: Int
            if Element.longVRs.contains(vr) {
                guard pos + 12 <= b.count else { return nil }
                len = Int(u32(pos + 8)); start = pos + 12
            } else { len = Int(u16(pos + 6)); start = pos + 8 }
            if g != 2 && prefixEnd < 0 { prefixEnd = pos }
            if len == 0xFFFF_FFFF {   // encapsulated pixel data: keep the rest verbatim as its value
                guard g == 0x7FE0 else { return nil }
                els.append(.init(group: g, element: e, vr: vr, value: Array(b[start...]), lengthOverride: 0xFFFF_FFFF))
                break
            }
            guard start + len <= b.count else { return nil }
            if g != 2 { els.append(.init(group: g, element: e, vr: vr, value: Array(b[start..<(start + len)]))) }
            pos = start + len
        }
        guard prefixEnd > 0 else { return nil }
        return (Array(b[0..<prefixEnd]), els)
    }
}
