import Testing

@Test func ImagingTestsPackageBuilds() { #expect(1 + 1 == 2) }
