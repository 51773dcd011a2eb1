import Foundation
import Logging
import ServiceLifecycle
import Store

/// Runs the console as one service of the daemon's ServiceGroup: it starts with the pipeline and stops
/// (gracefully, finishing requests in flight) on SIGTERM/SIGINT with it.
public struct ConsoleService: Service {
    let server: ConsoleServer

    public init(config: ConsoleConfig, store: BrixiaStore, logger: Logger) throws {
        try ConsoleServer.checkUsersFile(config.usersFile)
        server = try ConsoleServer(config: config, store: store, logger: logger)
    }

    public func run() async throws {
        try await server.application().run()
    }
}
