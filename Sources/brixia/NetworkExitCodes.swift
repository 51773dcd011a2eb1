import ArgumentParser
import DicomNetwork

/// Exit statuses of the network commands (documented in docs/pacs.md).
enum NetworkExit {
    static let connection: Int32 = 3    // TCP connection refused / unreachable / timed out
    static let rejected: Int32 = 4      // association rejected (AE titles)
    static let refused: Int32 = 5       // DIMSE failure status or no presentation context
    static let badFile: Int32 = 6       // a file is not readable DICOM
    static let queued: Int32 = 7        // send --queue: left pending in the queue for a later retry

    static func code(for error: DicomNetworkError) -> Int32 {
        switch error {
        case .connectionFailed: return connection
        case .associationRejected: return rejected
        case .dimseFailure, .noPresentationContext: return refused
        case .badFile: return badFile
        case .invalidNode: return ExitCode.validationFailure.rawValue
        default: return 1
        }
    }
}
