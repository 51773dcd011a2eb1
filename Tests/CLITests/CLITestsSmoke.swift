import Testing

@Test func CLITestsPackageBuilds() { #expect(1 + 1 == 2) }
