import BrixiaDomain
import Foundation
import Reports

/// dciodvfy / dcmdump helpers and a report input for the Secondary Capture tests.
enum DicomTools {
    static let studyUID = "1.2.826.0.1.3680043.8.498.10001"

    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
    static var available: Bool { which("dciodvfy") != nil && which("dcmdump") != nil }

    static func run(_ tool: String, _ args: [String]) throws -> (stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which(tool)!)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// dciodvfy prints on stderr; "Error" lines are failures.
    static func dciodvfy(_ path: String) throws -> (iod: String, errors: [String]) {
        let r = try run("dciodvfy", [path])
        let lines = (r.stdout + r.stderr).split(separator: "\n").map(String.init)
        return (lines.first ?? "", lines.filter { $0.contains("Error") })
    }

    /// Top-level attribute values by keyword.
    static func tag(_ path: String, _ key: String) throws -> [String] {
        let r = try run("dcmdump", ["-Un", "+L", "+P", key, path])   // +L: long values in full
        return r.stdout.split(separator: "\n").compactMap { line in
            if let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") {
                return String(line[line.index(after: open)..<close])
            }
            // Binary VRs (US, UL...) print the bare value: "(0028,0010) US 644  #   2, 1 Rows".
            let fields = line.split(separator: " ")
            return fields.count > 2 && line.hasPrefix("(") ? String(fields[2]) : nil
        }
    }

    static func reportInput() -> ReportInput {
        let zones = Zone.allCases.map { ZoneScore(zone: $0, grade: $0 == .A ? 2 : 0, probabilities: [0.1, 0.2, 0.6, 0.1]) }
        return ReportInput(
            patient: PatientInfo(id: "EXPL-001", name: "TEST^EXPLAIN", sex: "F", birthDate: "19600101"),
            study: StudyInfo(studyInstanceUID: studyUID, date: "20240131", time: "101500", accessionNumber: "ACC1", studyID: "S1"),
            source: SourceImage(sopClassUID: "1.2.840.10008.5.1.4.1.1.1.1", sopInstanceUID: "1.2.826.0.1.3680043.8.498.10003",
                                seriesInstanceUID: "1.2.826.0.1.3680043.8.498.10002", modality: "DX", viewPosition: "PA"),
            scores: BrixiaScores(zones: zones, global: 2),
            model: ModelIdentity(name: "random-fixture", version: "seed-7", weightsSHA256: String(repeating: "ab", count: 32)),
            equipment: EquipmentInfo(softwareVersion: "0.1.0"))
    }
}
