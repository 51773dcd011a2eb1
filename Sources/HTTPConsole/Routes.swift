/// Every route the server answers, in one table: the router is built from it and the tests compare its
/// API part with docs/openapi.yaml (both directions).
public struct RouteSpec: Sendable, Hashable {
    public let method: String
    /// OpenAPI-style template, e.g. /api/v1/studies/{studyUID}.
    public let path: String
    /// Part of the documented JSON/metrics API (else a console page).
    public let api: Bool
}

public enum ConsoleRoutes {
    public static let all: [RouteSpec] = [
        // API (docs/openapi.yaml)
        .init(method: "GET", path: "/health", api: true),
        .init(method: "GET", path: "/ready", api: true),
        .init(method: "GET", path: "/metrics", api: true),
        .init(method: "GET", path: "/api/v1/studies", api: true),
        .init(method: "GET", path: "/api/v1/studies/{studyUID}", api: true),
        .init(method: "POST", path: "/api/v1/studies/{studyUID}/retry", api: true),
        .init(method: "POST", path: "/api/v1/studies/{studyUID}/resend", api: true),
        .init(method: "GET", path: "/api/v1/patients/{patientID}/trend", api: true),
        .init(method: "GET", path: "/api/v1/quarantine", api: true),
        .init(method: "GET", path: "/api/v1/queue", api: true),
        .init(method: "GET", path: "/api/v1/outgoing", api: true),
        .init(method: "GET", path: "/api/v1/audit", api: true),
        // Console pages (server-rendered HTML)
        .init(method: "GET", path: "/login", api: false),
        .init(method: "POST", path: "/login", api: false),
        .init(method: "POST", path: "/logout", api: false),
        .init(method: "GET", path: "/", api: false),
        .init(method: "GET", path: "/patients/{patientID}", api: false),
        .init(method: "GET", path: "/studies/{studyUID}", api: false),
        .init(method: "GET", path: "/studies/{studyUID}/report.png", api: false),
        .init(method: "POST", path: "/studies/{studyUID}/retry", api: false),
        .init(method: "POST", path: "/studies/{studyUID}/resend", api: false),
        .init(method: "GET", path: "/quarantine", api: false),
        .init(method: "GET", path: "/failures", api: false),
        .init(method: "GET", path: "/outgoing", api: false),
        .init(method: "GET", path: "/static/console.css", api: false),
    ]
}
