import Foundation
import Testing
@testable import Store

/// Runs the real `brixia` query commands (built by `swift test` next to the tests) against a small database.
enum BrixiaBinary {
    static let url: URL? = {
        if let env = ProcessInfo.processInfo.environment["BRIXIA_BIN"] { return URL(fileURLWithPath: env) }
        for config in ["debug", "release"] {
            let candidate = RepoPaths.root.appendingPathComponent(".build/\(config)/brixia")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }()

    static var available: Bool { url != nil }

    static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = try require_(url, "brixia binary")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

@Suite(.enabled(if: BrixiaBinary.available, "needs the brixia executable in .build/debug (built by swift test) or BRIXIA_BIN"))
struct CommandOutputTests {
    private func populated() throws -> TempStore {
        let temp = try TempStore()
        try Fixture.scoredStudy(temp.store, study: "S1", date: "20200301", grades: [1, 1, 0, 0, 0, 0])
        try Fixture.scoredStudy(temp.store, study: "S2", date: "20200305", grades: [3, 3, 2, 2, 2, 2])
        return temp
    }

    private func parse(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    @Test func jsonOutputsParse() throws {
        let temp = try populated()
        let trend = try BrixiaBinary.run(["trend", "--db", temp.path, "P1", "--json"])
        #expect(trend.status == 0, "\(trend.err)")
        let object = try #require(try parse(trend.out) as? [String: Any])
        #expect(Set(object.keys) == ["patientID", "exams"])
        #expect((object["exams"] as? [[String: Any]])?.map { $0["delta"] as? Int } == [nil, 12])

        for command in [["studies"], ["status"], ["show", "S2"]] {
            let result = try BrixiaBinary.run(command + ["--db", temp.path, "--json"])
            #expect(result.status == 0, "\(command): \(result.err)")
            #expect((try? parse(result.out)) != nil, "\(command) --json does not parse")
        }
    }

    @Test func humanOutputsKeepNamesOutOfListings() throws {
        let temp = try populated()
        for command in [["trend", "P1"], ["studies"], ["status"]] {
            let result = try BrixiaBinary.run(command + ["--db", temp.path])
            #expect(result.status == 0, "\(command): \(result.err)")
            #expect(!result.out.contains("Doe"), "\(command) printed a patient name")
        }
        let trend = try BrixiaBinary.run(["trend", "P1", "--db", temp.path])
        #expect(trend.out.contains("Global Brixia score over time"))
        #expect(trend.out.contains("ALERT rise>=3"))
        // `show` is about one study the user asked for: the name may appear there.
        #expect(try BrixiaBinary.run(["show", "S2", "--db", temp.path]).out.contains("Doe^Jane"))
    }

    @Test func clearErrors() throws {
        let temp = try populated()
        let missing = temp.directory.appendingPathComponent("missing.sqlite").path
        let noDB = try BrixiaBinary.run(["trend", "P1", "--db", missing])
        #expect(noDB.status != 0)
        #expect(noDB.err.contains("database not found: \(missing)"))
        #expect(!FileManager.default.fileExists(atPath: missing), "a query must not create the database")
        let unknown = try BrixiaBinary.run(["trend", "NOPE", "--db", temp.path])
        #expect(unknown.status != 0)
        #expect(unknown.err.contains("unknown patient: NOPE"))
        let study = try BrixiaBinary.run(["show", "9.9.9", "--db", temp.path])
        #expect(study.err.contains("unknown study: 9.9.9"))
        let rule = try BrixiaBinary.run(["trend", "P1", "--db", temp.path, "--rule", "bogus"])
        #expect(rule.status != 0)
        #expect(rule.err.contains("invalid alert rule"))
    }
}
