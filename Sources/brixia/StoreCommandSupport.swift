import ArgumentParser
import Store
import TextSafety

/// `--db FILE` for the commands that read the store.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("SQLite database written by the pipeline.", valueName: "file"))
    var db: String

    /// Opens the existing database; a missing file is a clear error, never a new empty database.
    func open() throws -> BrixiaStore {
        try BrixiaStore.openExisting(path: db)
    }
}

extension JobState: ExpressibleByArgument {
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
