import ArgumentParser
import Store

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
