import Testing

@Test func ModelBundleTestsPackageBuilds() { #expect(1 + 1 == 2) }
