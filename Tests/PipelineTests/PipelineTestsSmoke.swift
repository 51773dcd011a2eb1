import Testing

@Test func PipelineTestsPackageBuilds() { #expect(1 + 1 == 2) }
