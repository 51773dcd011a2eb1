import BrixiaDomain
import Foundation
import Testing
@testable import DicomKit

/// Structure-aware fuzzing of header values (issue #13): the files are parsed into top-level elements and
/// mutated where the reader makes decisions (geometry, frame counts, element lengths, VRs, UIDs, character
/// sets, Pixel Data length), then read, checked, decoded and judged for output readiness.
@Suite struct HeaderFuzzTests {
    typealias E = DicomBytes.Element
    static let cases = 6000
    /// Tight limits, so that the mutated declared sizes often cross them.
    static let limits = DicomLimits(maxFileBytes: 4 << 20, maxRows: 1024, maxColumns: 1024, maxFrames: 4, maxPixels: 1 << 19)

    static let sampleFile: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p = root.appendingPathComponent("Samples/rejects/lateral_LL.dcm").path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }()

    static let geometryTags: [UInt16] = [0x0002, 0x0006, 0x0010, 0x0011, 0x0100, 0x0101, 0x0102, 0x0103]
    static let interesting: [UInt16] = [0, 1, 2, 3, 7, 8, 11, 12, 15, 16, 17, 24, 31, 32, 33, 255, 256, 1023, 1024, 1025,
                                        4096, 16384, 16385, 32767, 32768, 65534, 65535]
    static let frameValues = ["0", "1", "2", "4", "5", "64", "1000", "2147483647", "4294967296", "-1", "abc", "1e9", " 3", "3.5", ""]
    static let lengths: [UInt32] = [0, 1, 2, 3, 0xFFFF, 0x10000, 0x7FFF_FFFF, 0xFFFF_FFF0, 0xFFFF_FFFE, 0xFFFF_FFFF]
    static let vrs = ["US", "UL", "SS", "SL", "OB", "OW", "UN", "SQ", "IS", "DS", "CS", "UI", "PN", "LO", "UT", "FD", "XX", "\0\0", "ob"]
    static let uidTags: [(UInt16, UInt16)] = [(0x0008, 0x0016), (0x0008, 0x0018), (0x0020, 0x000D), (0x0020, 0x000E)]
    static let uids = ["..", "1.2.a", "", String(repeating: "1.", count: 40) + "1", "1.2\n3", "01.2", "1.2.840.10008.5.1.4.1.1.88.33",
                       "1.2.840.10008.5.1.4.1.1.7", "\u{1B}[2J", "1.2.3.4"]
    static let charsets = ["ISO_IR 192", "ISO_IR 100", "ISO 2022 IR 87", "\\ISO 2022 IR 100", "GB18030", "ISO_IR 999", "\u{1B}$B",
                           "ISO_IR 100\\ISO_IR 192\\ISO_IR 6\\ISO_IR 144", ""]

    static func mutate(_ parsed: (prefix: [UInt8], elements: [E]), _ rng: inout SplitMix64) -> [UInt8] {
        var els = parsed.elements
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        func set(_ e: E) {
            if let i = els.firstIndex(where: { $0.tag == e.tag }) { els[i] = e } else {
                els.insert(e, at: els.firstIndex(where: { $0.tag > e.tag }) ?? els.count)
            }
        }
        var flip = false
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            switch rng.next() % 10 {
            case 0, 1:
                let v: UInt16 = rng.next() % 4 == 0 ? UInt16(truncatingIfNeeded: rng.next()) : pick(interesting)
                set(E(group: 0x0028, element: pick(geometryTags), vr: "US", value: DicomBytes.us(v)))
            case 2:
                set(E(group: 0x0028, element: 0x0008, vr: "IS", value: DicomBytes.text(pick(frameValues))))
            case 3:
                guard !els.isEmpty else { break }
                let i = Int(rng.next() % UInt64(els.count))
                els[i].lengthOverride = rng.next() % 3 == 0 ? UInt32(truncatingIfNeeded: rng.next()) :
                    (rng.next() % 2 == 0 ? pick(lengths) : UInt32(truncatingIfNeeded: els[i].value.count + Int(rng.next() % 9) - 4))
            case 4:
                guard !els.isEmpty else { break }
                els[Int(rng.next() % UInt64(els.count))].vr = pick(vrs)
            case 5:
                let (g, e) = pick(uidTags)
                set(E(group: g, element: e, vr: "UI", value: DicomBytes.uid(pick(uids))))
            case 6:
                set(E(group: 0x0008, element: 0x0005, vr: "CS", value: DicomBytes.text(pick(charsets))))
                let name = (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                set(E(group: 0x0010, element: 0x0010, vr: "PN", value: name + (name.count % 2 == 1 ? [0x20] : [])))
            case 7:
                guard let i = els.firstIndex(where: { $0.group == 0x7FE0 }) else { break }
                let n = els[i].value.count
                if rng.next() % 2 == 0 { els[i].value.removeLast(min(n, Int(rng.next() % UInt64(max(1, n))))) } else {
                    els[i].value += [UInt8](repeating: 0x5A, count: Int(rng.next() % 4096))
                }
            case 8:
                if !els.isEmpty { els.remove(at: Int(rng.next() % UInt64(els.count))) }
            default:
                flip = true
            }
        }
        var out = parsed.prefix + els.flatMap(\.bytes)
        if flip { out[Int(rng.next() % UInt64(out.count))] ^= UInt8(1 << (rng.next() % 8)) }
        return out
    }

    struct Tally {
        var opened = 0, decoded = 0, overLimits = 0
        var kinds: [String: Int] = [:]
    }

    static func judge(_ e: DicomError, _ path: String, _ tally: inout Tally) {
        tally.kinds[e.kind, default: 0] += 1
        #expect(!e.reason.isEmpty, "empty reason: \(e)")
        #expect(e.path == path)
        #expect(OutputReadiness.printable(e.reason, limit: .max) == e.reason, "unprintable reason: \(e.reason)")
    }

    static func run(_ path: String, _ tally: inout Tally) {
        let L = limits
        let f: DicomFile
        do { f = try DicomFile(path: path, limits: L) } catch let e as DicomError { judge(e, path, &tally); return } catch {
            Issue.record("untyped error \(error)"); return
        }
        tally.opened += 1
        let elig = InstanceSelector.eligibility(of: f.instance)
        #expect(OutputReadiness.printable(elig.reason, limit: .max) == elig.reason, "unprintable: \(elig.reason)")
        if let p = OutputReadiness.problem(of: f.instance, fileName: "mut.dcm") {
            #expect(OutputReadiness.printable(p, limit: .max) == p, "unprintable: \(p)")
        }
        let g = f.instance.geometry, frames = f.instance.instance.numberOfFrames
        let over = f.instance.hasPixelData && (g.rows > L.maxRows || g.columns > L.maxColumns || frames > L.maxFrames
                                               || g.rows * g.columns * max(1, frames) > L.maxPixels)
        if over { tally.overLimits += 1 }
        var headerOK = true
        do { try f.checkPixelGeometry() } catch let e as DicomError { judge(e, path, &tally); headerOK = false } catch {
            Issue.record("untyped error \(error)")
        }
        if over { #expect(!headerOK, "declared \(g.columns)x\(g.rows)x\(frames) over the limits passed the header check") }
        do {
            let (px, _) = try f.decodeDisplay()
            tally.decoded += 1
            #expect(!over, "declared \(g.columns)x\(g.rows)x\(frames) over the limits was decoded")
            #expect(headerOK)
            #expect(px.width <= L.maxColumns && px.height <= L.maxRows && px.values.count == px.width * px.height)
        } catch let e as DicomError { judge(e, path, &tally) } catch { Issue.record("untyped error \(error)") }
    }

    @Test func structureAwareHeaderMutations() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var seeds: [[UInt8]] = [
            DicomBytes.chest(rows: 24, cols: 24),
            DicomBytes.chest(rows: 20, cols: 30, pixelBytes: 600, overrides: [
                E(group: 0x0028, element: 0x0100, vr: "US", value: DicomBytes.us(8)), E(group: 0x0028, element: 0x0101, vr: "US", value: DicomBytes.us(8)),
                E(group: 0x0028, element: 0x0102, vr: "US", value: DicomBytes.us(7)), E(group: 0x0008, element: 0x0005, vr: "CS", value: DicomBytes.text("ISO_IR 192")),
            ]),
        ]
        if Fixtures.toolsAvailable {
            let src = dir.appendingPathComponent("src.dcm").path
            try Data(seeds[0]).write(to: URL(fileURLWithPath: src))
            for (tool, name) in [("dcmcrle", "rle"), ("dcmcjpls", "jls")] {
                let out = dir.appendingPathComponent("\(name).dcm").path
                try Fixtures.run(tool, [src, out])
                seeds.append(try [UInt8](Data(contentsOf: URL(fileURLWithPath: out))))
            }
        }
        if let sample = Self.sampleFile { seeds.append(try [UInt8](Data(contentsOf: URL(fileURLWithPath: sample)))) }
        let parsed = try seeds.map { try #require(DicomBytes.parse($0), "seed not parseable") }
        for (i, s) in seeds.enumerated() {   // every seed is valid as it is
            let p = dir.appendingPathComponent("seed\(i).dcm").path
            try Data(s).write(to: URL(fileURLWithPath: p))
            var t = Tally()
            Self.run(p, &t)
            #expect(t.decoded == 1, "seed \(i): \(t.kinds)")
        }
        var rng = SplitMix64(0x13_B0_4B)
        var tally = Tally()
        let out = dir.appendingPathComponent("mut.dcm").path
        for i in 0..<Self.cases {
            let bytes = Self.mutate(parsed[i % parsed.count], &rng)
            try Data(bytes).write(to: URL(fileURLWithPath: out))
            Self.run(out, &tally)
        }
        // The mutations reached every check they are aimed at, and some files still decode.
        for kind in ["limitExceeded", "invalidGeometry", "pixelDataTooShort", "corrupt"] {
            #expect(tally.kinds[kind, default: 0] > 0, "no \(kind) in \(tally.kinds)")
        }
        #expect(tally.overLimits > 100, "\(tally.overLimits) cases over the limits")
        #expect(tally.decoded > Self.cases / 20, "only \(tally.decoded) decoded")
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        #expect(u.ru_maxrss < 1 << 20, "peak RSS \(u.ru_maxrss) KiB")
        print("header fuzz: \(Self.cases) cases, \(tally.opened) opened, \(tally.decoded) decoded, \(tally.overLimits) over the limits, errors \(tally.kinds.sorted { $0.key < $1.key })")
    }
}
