import BrixiaDomain
import ArgumentParser
import Foundation
import Pipeline
import Store
import TextSafety

/// Where the query commands (studies, show, trend, status, retry) find the store: the same resolution as
/// `run`/`serve` (flags > BRIXIA_* environment > config file > ./brixia-work), so after a default
/// `run --once` they need no flag at all.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("SQLite database written by the pipeline (default: the one `run` uses, from --config/--work-dir, BRIXIA_DB, BRIXIA_CONFIG, BRIXIA_WORK_DIR, else ./brixia-work/brixia.sqlite).", valueName: "file"))
    var db: String?
    @Option(help: "The configuration file `run`/`serve` use; its database is read. Env: BRIXIA_CONFIG.")
    var config: String?
    @Option(name: .customLong("work-dir"), help: "The working folder `run`/`serve` use; its database is read. Env: BRIXIA_WORK_DIR.")
    var workDir: String?

    /// The database path, resolved like the pipeline resolves it.
    var path: String {
        get throws {
            if let db { return db }
            var o = ConfigOverrides()
            o["workDir"] = workDir
            do {
                return try ConfigResolver.resolve(flags: o, configPath: config, environment: ProcessInfo.processInfo.environment,
                                                  currentDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                                                  shippedModel: { nil }).database.path
            } catch let e as ConfigError {
                throw CommandFailure(description: e.description)
            }
        }
    }

    /// Opens the existing database; a missing file is a clear error, never a new empty database.
    func open() throws -> BrixiaStore {
        try BrixiaStore.openExisting(path: try path)
    }
}

extension BrixiaDomain.JobState: ExpressibleByArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// Store errors become one-line command failures (exit code 1) with the store's message.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

func runReportingStoreErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as StoreError {
        throw CommandFailure(description: error.description)
    }
}

let aiDisclaimer = "AI-generated scores (BS-Net), not verified by a physician, not for diagnostic use."

/// Prints text built from stored values (which came from DICOM headers and file names): every
/// control character except the line breaks the command itself puts between lines is escaped, so a
/// PatientID carrying ESC sequences cannot drive the terminal. `--json` output does not go through
/// here (JSON escapes by itself and must stay exact).
func out(_ text: String) {
    print(text.split(separator: "\n", omittingEmptySubsequences: false).map { SafeText.escape(String($0)) }
        .joined(separator: "\n"))
}
