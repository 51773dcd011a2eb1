import BrixiaDomain
import Foundation
@testable import Reports

/// Realistic fake inputs and helpers to run the DICOM command-line tools.
enum Fixtures {
    static let studyUID = "1.2.826.0.1.3680043.8.498.10000000000000000000000000000001"
    static let priorStudyUID = "1.2.826.0.1.3680043.8.498.10000000000000000000000000000002"
    static let source = SourceImage(sopClassUID: "1.2.840.10008.5.1.4.1.1.1",
                                    sopInstanceUID: "1.2.826.0.1.3680043.8.498.20000000000000000000000000000001",
                                    seriesInstanceUID: "1.2.826.0.1.3680043.8.498.30000000000000000000000000000001",
                                    modality: "CR", viewPosition: "AP")
    static let priorImage = SourceImage(sopClassUID: "1.2.840.10008.5.1.4.1.1.1.1",
                                        sopInstanceUID: "1.2.826.0.1.3680043.8.498.20000000000000000000000000000002",
                                        seriesInstanceUID: "1.2.826.0.1.3680043.8.498.30000000000000000000000000000002",
                                        modality: "DX", viewPosition: "AP")
    static let grades: [Zone: Int] = [.A: 1, .B: 2, .C: 3, .D: 0, .E: 2, .F: 3]

    static func scores() -> BrixiaScores {
        let zones = Zone.allCases.map { z -> ZoneScore in
            let g = grades[z]!
            var p = [0.04, 0.06, 0.05, 0.05]; p[g] = 0.80
            return ZoneScore(zone: z, grade: g, probabilities: p)
        }
        return BrixiaScores(zones: zones, global: 11, confidence: 0.87)
    }

    static func input(withPrior: Bool) -> ReportInput {
        ReportInput(
            patient: PatientInfo(id: "BRX-0042", issuer: "HOSP-BS", name: "ROSSI^MARIA", sex: "F", birthDate: "19580314"),
            study: StudyInfo(studyInstanceUID: studyUID, date: "20200324", time: "093012", accessionNumber: "ACC20200324-17",
                             studyID: "4711", description: "XR CHEST AP", referringPhysicianName: "BIANCHI^LUCA"),
            source: source,
            scores: scores(),
            prior: withPrior ? PriorExam(studyInstanceUID: priorStudyUID, studyDate: "20200319", global: 7, image: priorImage) : nil,
            change: withPrior ? ScoreChange(delta: 4, trend: .worse) : nil,
            alerts: withPrior ? [.worsening] : [],
            model: ModelIdentity(name: "BS-Net", version: "1.0.0",
                             weightsSHA256: "9f2c1a7d8e3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"),
            equipment: EquipmentInfo(institutionName: "Spedali Civili di Brescia", softwareVersion: "0.1.0"),
            created: Date(timeIntervalSince1970: 1_585_040_000))
    }

    static let trend = [TrendPoint(date: "20200316", global: 3), TrendPoint(date: "20200319", global: 7),
                        TrendPoint(date: "20200321", global: 9), TrendPoint(date: "20200324", global: 11)]

    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static var dicomToolsAvailable: Bool { which("dciodvfy") != nil && which("dsrdump") != nil && which("dcmdump") != nil }

    struct ToolResult { let status: Int32; let stdout: String; let stderr: String }

    static func run(_ tool: String, _ args: [String]) throws -> ToolResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which(tool) ?? tool)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return ToolResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                          stderr: String(decoding: e, as: UTF8.self))
    }

    /// dciodvfy prints everything on stderr; "Error" lines are failures, 99BRIXIA warnings are expected.
    static func dciodvfyErrors(_ path: String) throws -> (iod: String, errors: [String]) {
        let r = try run("dciodvfy", [path])
        let lines = (r.stdout + r.stderr).split(separator: "\n").map(String.init)
        return (lines.first ?? "", lines.filter { $0.contains("Error") })
    }

    /// Values of one attribute from dcmdump. `key` is a top-level keyword ("StudyInstanceUID") or a hex path
    /// as dcmdump +p prints it ("(0040,a375).(0020,000d)"); only exact path matches are returned.
    static func tag(_ path: String, _ key: String) throws -> [String] {
        let isPath = key.hasPrefix("(")
        let search = isPath ? String(key.split(separator: ".").last!).trimmingCharacters(in: CharacterSet(charactersIn: "()")) : key
        let r = try run("dcmdump", ["-Un", "+p", "+P", search, path])
        return r.stdout.split(separator: "\n").compactMap { line in
            let hierarchy = line.prefix { $0 != " " }
            if isPath ? hierarchy.lowercased() != key.lowercased() : hierarchy.contains(".") { return nil }
            guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
    }
}
