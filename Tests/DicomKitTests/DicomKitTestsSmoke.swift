import Testing

@Test func DicomKitTestsPackageBuilds() { #expect(1 + 1 == 2) }
