#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs tools from tests (shared by the test targets that start Orthanc, scripts and DICOM tools).
public enum Spawn {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `exe` to completion with a bounded wait (killed after `timeout`); returns its status (128 + signal when
    /// killed) and combined stdout/stderr. `environment` is the whole environment of the child.
    /// posix_spawn + waitpid rather than Foundation.Process: Process did not notice the exit of a script that left a
    /// daemon (Orthanc) running, and hung. Output goes to a temp file so no pipe is inherited by grandchildren. The
    /// child gets a clean signal state: the test process's threads block signals (Dispatch), and a daemon started
    /// from here would inherit the mask and never see orthanc-stop.sh's SIGTERM.
    public static func run(_ exe: String, _ args: [String], timeout: TimeInterval,
                           environment: [String: String]) throws -> (status: Int32, output: String) {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-spawn-\(UUID().uuidString)").path
        defer { unlink(outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none); sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([exe] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, &attr, argv, envp)
        guard rc == 0 else { throw Failure(description: "cannot run \(exe): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while waitpid(pid, &status, WNOHANG) != pid {
            if Date() > deadline { kill(pid, SIGKILL); _ = waitpid(pid, &status, 0); break }
            usleep(20_000)
        }
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0   // WIFEXITED / WEXITSTATUS by hand (macros are not imported)
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }
}
