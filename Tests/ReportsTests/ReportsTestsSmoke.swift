import Testing

@Test func ReportsTestsPackageBuilds() { #expect(1 + 1 == 2) }
