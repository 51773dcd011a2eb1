import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Request context carrying the peer address (for the audit log and the login throttle).
public struct ConsoleContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remote: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remote = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// Building answers: every one carries no-store caching and the browser hardening headers.
enum Reply {
    static let csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func make(_ status: HTTPResponse.Status, contentType: String, body: ByteBuffer, extra: HTTPFields = [:]) -> Response {
        var h = HTTPFields()
        h[.contentType] = contentType
        h[.cacheControl] = "no-store"
        h[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        h[HTTPField.Name("X-Frame-Options")!] = "DENY"
        h[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        h[HTTPField.Name("Content-Security-Policy")!] = csp
        h.append(contentsOf: extra)
        return Response(status: status, headers: h, body: .init(byteBuffer: body))
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data("{\"error\":\"encoding failed\"}".utf8)
        return make(status, contentType: "application/json; charset=utf-8", body: ByteBuffer(bytes: data))
    }

    static func jsonError(_ status: HTTPResponse.Status, _ message: String, extra: HTTPFields = [:]) -> Response {
        var r = json(APIError(error: message, disclaimer: Disclaimer.text), status: status)
        r.headers.append(contentsOf: extra)
        return r
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok, extra: HTTPFields = [:]) -> Response {
        make(status, contentType: "text/html; charset=utf-8", body: ByteBuffer(string: text), extra: extra)
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        make(status, contentType: contentType, body: ByteBuffer(string: text))
    }

    static func redirect(_ location: String, extra: HTTPFields = [:]) -> Response {
        var h = extra
        h[.location] = location
        return make(.seeOther, contentType: "text/plain; charset=utf-8", body: ByteBuffer(string: "see \(location)\n"), extra: h)
    }
}

struct APIError: Encodable { let error: String; let disclaimer: String }

/// application/x-www-form-urlencoded bodies (the console's forms), bounded.
enum FormBody {
    static let maxBytes = 16 * 1024

    static func parse(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: maxBytes)
        return parse(String(buffer: buffer))
    }

    static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            guard let k = kv.first else { continue }
            out[decode(k)] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }
}

extension Request {
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }

    /// A path parameter, percent-decoded (patient IDs may hold spaces or '/').
    func pathParameter(_ name: String, _ context: ConsoleContext) -> String? {
        context.parameters.get(name).flatMap { $0.removingPercentEncoding }
    }

    /// A query parameter decoded once, the way browsers encode forms ('+' is a space, %2B a plus).
    func query(_ name: String) -> String? {
        FormBody.parse(uri.query ?? "")[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

func urlPathComponent(_ s: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "/?#%")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
}
