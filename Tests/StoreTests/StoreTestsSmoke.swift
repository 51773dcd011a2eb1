import Testing

@Test func StoreTestsPackageBuilds() { #expect(1 + 1 == 2) }
