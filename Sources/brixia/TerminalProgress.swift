import Foundation
import Synchronization

/// Progress of long commands on stderr. On a terminal one status line is redrawn in place and log
/// lines are written above it (the log handler suspends it); otherwise every update is a plain line,
/// so logs and CI output stay readable.
final class TerminalProgress: Sendable {
    static let shared = TerminalProgress()

    let isTerminal = isatty(STDERR_FILENO) == 1
    /// The status line shown now; the lock also keeps writes to stderr whole.
    private let current = Mutex<String?>(nil)

    /// Shows `line` (a terminal status line, or one plain line).
    func update(_ line: String) {
        current.withLock { current in
            if isTerminal {
                current = line
                write("\r\u{1B}[K" + line)
            } else {
                write(line + "\n")
            }
        }
    }

    /// Ends the status line (the last state stays visible).
    func finish() {
        current.withLock { current in
            if isTerminal, current != nil { write("\n") }
            current = nil
        }
    }

    /// Runs `body` (which writes a log line) with the status line removed, then redraws it.
    func suspend(_ body: () -> Void) {
        current.withLock { current in
            guard isTerminal, let line = current else { return body() }
            write("\r\u{1B}[K")
            body()
            write(line)
        }
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
