import Testing

@Test func EngineTestsPackageBuilds() { #expect(1 + 1 == 2) }
