import Foundation

/// Progress of long commands on stderr. On a terminal one status line is redrawn in place and log
/// lines are written above it (the log handler suspends it); otherwise every update is a plain line,
/// so logs and CI output stay readable.
final class TerminalProgress: @unchecked Sendable {   // all state behind `lock`
    static let shared = TerminalProgress()

    let isTerminal = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private var current: String?

    /// Shows `line` (a terminal status line, or one plain line).
    func update(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        if isTerminal {
            current = line
            write("\r\u{1B}[K" + line)
        } else {
            write(line + "\n")
        }
    }

    /// Ends the status line (the last state stays visible).
    func finish() {
        lock.lock(); defer { lock.unlock() }
        if isTerminal, current != nil { write("\n") }
        current = nil
    }

    /// Runs `body` (which writes a log line) with the status line removed, then redraws it.
    func suspend(_ body: () -> Void) {
        lock.lock(); defer { lock.unlock() }
        guard isTerminal, let line = current else { return body() }
        write("\r\u{1B}[K")
        body()
        write(line)
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
