import BrixiaTestSupport
import Foundation
import Testing
@testable import DicomNetwork

/// Shared helpers: temp folders, free high ports, DICOM fixtures made with DCMTK's dump2dcm, processes.
enum NetTest {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func tempDir(_ tag: String) throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-net-\(tag)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d.path
    }

    /// A free TCP port in 20000-59999 (random start so parallel tests do not collide).
    static func freePort() -> UInt16 {
        for _ in 0..<200 {
            let p = UInt16.random(in: 20000...59999)
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(s) }
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = p.bigEndian
            a.sin_addr.s_addr = INADDR_ANY
            let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if ok == 0 { return p }
        }
        return 0
    }

    static func newUID() -> String {
        // 2.25.<128-bit UUID as decimal> fits in 64 characters; a 96-bit random integer is plenty here.
        "2.25.\(UInt64.random(in: 1...UInt64.max / 2))\(UInt32.random(in: 100000...999999))"
    }

    /// Writes a small DICOM image with dump2dcm. `rows`x`cols` 16-bit pixels.
    @discardableResult
    static func makeImage(at path: String, sopClass: String = StorageSOPClass.digitalXRayForPresentation,
                          modality: String = "DX", studyUID: String = newUID(), sopUID: String = newUID(),
                          patientID: String = "NET-TEST-1", rows: Int = 64, cols: Int = 64, seed: UInt16 = 7) throws -> (study: String, sop: String) {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        // Scratch names from a UUID, not the UID: tests pass hostile UIDs such as "../../x".
        let scratch = dir + "/.\(UUID().uuidString)"
        let raw = scratch + ".raw"
        var px = Data(capacity: rows * cols * 2)
        for i in 0..<(rows * cols) {
            let v = UInt16(truncatingIfNeeded: (i &* 31 &+ Int(seed) &* 977) % 4096)
            px.append(UInt8(v & 0xFF)); px.append(UInt8(v >> 8))
        }
        try px.write(to: URL(fileURLWithPath: raw))
        let dump = """
            (0002,0010) UI =LittleEndianExplicit
            (0008,0016) UI [\(sopClass)]
            (0008,0018) UI [\(sopUID)]
            (0008,0020) DA [20240102]
            (0008,0030) TM [101500]
            (0008,0060) CS [\(modality)]
            (0008,0064) CS [WSD]
            (0010,0010) PN [Network^Test]
            (0010,0020) LO [\(patientID)]
            (0018,5101) CS [PA]
            (0020,000d) UI [\(studyUID)]
            (0020,000e) UI [\(newUID())]
            (0020,0013) IS [1]
            (0028,0002) US 1
            (0028,0004) CS [MONOCHROME2]
            (0028,0010) US \(rows)
            (0028,0011) US \(cols)
            (0028,0100) US 16
            (0028,0101) US 12
            (0028,0102) US 11
            (0028,0103) US 0
            (7fe0,0010) OW =\(raw)
            """
        let dumpPath = scratch + ".dump"
        try dump.write(toFile: dumpPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: raw); try? FileManager.default.removeItem(atPath: dumpPath) }
        let r = try run("/usr/bin/dump2dcm", ["-q", dumpPath, path])
        guard r.status == 0 else { throw FixtureError(message: "dump2dcm failed: \(r.output)") }
        return (studyUID, sopUID)
    }

    struct FixtureError: Error { var message: String }

    /// Runs a process to completion with a bounded wait; returns status and combined output (`Spawn.run`).
    @discardableResult
    static func run(_ exe: String, _ args: [String], timeout: TimeInterval = 60, env: [String: String]? = nil) throws -> (status: Int32, output: String) {
        do {
            return try Spawn.run(exe, args, timeout: timeout,
                                 environment: ProcessInfo.processInfo.environment.merging(env ?? [:]) { $1 })
        } catch let e as Spawn.Failure { throw FixtureError(message: e.description) }
    }

    /// All .dcm files under `inbox`, excluding the staging folder.
    static func inboxFiles(_ inbox: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: inbox) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".dcm") && !$0.hasPrefix(".staging") }.sorted()
    }

    static func stagingFiles(_ inbox: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: inbox + "/.staging")) ?? []
    }

    static func waitUntil(_ timeout: TimeInterval, _ cond: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end { if cond() { return true }; usleep(50_000) }
        return cond()
    }
}
