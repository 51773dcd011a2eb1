import Foundation

/// Builds test DICOM files on the fly with DCMTK's command-line tools (`dcmtk` package) in a temp dir.
enum Fixtures {
    static func tool(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        return nil
    }
    static var toolsAvailable: Bool { ["dump2dcm", "dcmcjpls", "dcmcrle", "dcmcjpeg", "dcmconv"].allSatisfy { tool($0) != nil } }

    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dicomkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @discardableResult
    static func run(_ name: String, _ args: [String]) throws -> Int32 {
        guard let path = tool(name) else { throw NSError(domain: "Fixtures", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(name) not installed"]) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            throw NSError(domain: "Fixtures", code: Int(p.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(name) \(args.joined(separator: " ")) failed"])
        }
        return p.terminationStatus
    }

    /// A 12-bit-like test pattern: ramp plus a bright disc (values < 2^bits).
    static func pattern(rows: Int, cols: Int, bits: Int) -> [UInt16] {
        let maxV = (1 << bits) - 1
        var v = [UInt16](repeating: 0, count: rows * cols)
        for y in 0..<rows {
            for x in 0..<cols {
                var p = (x * 7 + y * 3) % (maxV + 1)
                let dx = x - cols / 2, dy = y - rows / 2
                if dx * dx + dy * dy < (rows / 4) * (rows / 4) { p = maxV - (x % 16) }
                v[y * cols + x] = UInt16(p)
            }
        }
        return v
    }

    struct Spec {
        var rows = 64, cols = 48, bitsAllocated = 16, bitsStored = 12
        var photometric = "MONOCHROME2"
        var samplesPerPixel = 1
        var frames: Int? = nil
        var modality = "DX"
        var sopClass = "1.2.840.10008.5.1.4.1.1.1.1"
        var viewPosition = "PA"
        var charset: String? = nil
        var patientName: [UInt8] = Array("Test^Patient".utf8)
        var extra: [String] = []
        var pixelBytes: [UInt8]? = nil      // overrides the generated pattern
        var omitPixelData = false
        var window: (Double, Double)? = (2048, 4096)
        var imageType = "ORIGINAL\\PRIMARY"
    }

    /// Writes a DICOM file (Explicit VR LE with File Meta) and returns its path.
    static func make(_ spec: Spec, in dir: URL, name: String) throws -> String {
        let raw = dir.appendingPathComponent("\(name).raw")
        var bytes: [UInt8]
        if let b = spec.pixelBytes { bytes = b } else {
            let n = spec.rows * spec.cols * spec.samplesPerPixel * (spec.frames ?? 1)
            let pat = pattern(rows: n / spec.cols, cols: spec.cols, bits: spec.bitsStored)
            if spec.bitsAllocated == 8 { bytes = pat.map { UInt8($0 & 0xFF) } } else {
                bytes = pat.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            }
        }
        try Data(bytes).write(to: raw)
        var lines: [[UInt8]] = []
        func add(_ s: String) { lines.append(Array(s.utf8)) }
        add("(0002,0010) UI =LittleEndianExplicit")
        if let cs = spec.charset { add("(0008,0005) CS [\(cs)]") }
        add("(0008,0008) CS [\(spec.imageType)]")
        add("(0008,0016) UI [\(spec.sopClass)]")
        add("(0008,0018) UI [2.25.\(UInt64.random(in: 1...UInt64.max))]")
        add("(0008,0060) CS [\(spec.modality)]")
        lines.append(Array("(0010,0010) PN [".utf8) + spec.patientName + Array("]".utf8))
        add("(0010,0020) LO [PID-1]")
        add("(0018,5101) CS [\(spec.viewPosition)]")
        add("(0020,000d) UI [2.25.1001]")
        add("(0020,000e) UI [2.25.1002]")
        add("(0028,0002) US \(spec.samplesPerPixel)")
        add("(0028,0004) CS [\(spec.photometric)]")
        if spec.samplesPerPixel > 1 { add("(0028,0006) US 0") }
        if let f = spec.frames { add("(0028,0008) IS [\(f)]") }
        add("(0028,0010) US \(spec.rows)")
        add("(0028,0011) US \(spec.cols)")
        add("(0028,0030) DS [0.150\\0.150]")
        add("(0028,0100) US \(spec.bitsAllocated)")
        add("(0028,0101) US \(spec.bitsStored)")
        add("(0028,0102) US \(spec.bitsStored - 1)")
        add("(0028,0103) US 0")
        if let w = spec.window { add("(0028,1050) DS [\(w.0)]"); add("(0028,1051) DS [\(w.1)]") }
        for e in spec.extra { add(e) }
        if !spec.omitPixelData { add("(7fe0,0010) \(spec.bitsAllocated == 8 ? "OB" : "OW") =\(raw.path)") }
        let dump = dir.appendingPathComponent("\(name).dump")
        try Data(lines.joined(separator: [0x0A]) + [0x0A]).write(to: dump)
        let out = dir.appendingPathComponent("\(name).dcm").path
        try run("dump2dcm", ["-q", dump.path, out])
        return out
    }
}
