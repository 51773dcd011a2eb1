import Testing
@testable import DicomNetwork

@Suite struct DicomNodeTests {
    @Test func parsesAEHostPort() throws {
        let n = try DicomNode(parsing: "PACSTEST@127.0.0.1:14242")
        #expect(n.aeTitle == "PACSTEST" && n.host == "127.0.0.1" && n.port == 14242)
        #expect(n.description == "PACSTEST@127.0.0.1:14242")
    }

    @Test(arguments: ["PACS@host", "@h:1", "PACS@:104", "PACS@h:0", "PACS@h:70000", "WAY_TOO_LONG_AE_TITLE@h:1", "A\\B@h:1"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: DicomNetworkError.self) { try DicomNode(parsing: text) }
    }
}
