import Foundation
import Reports
import Store
import Testing
@testable import Pipeline

@Suite("Tracking derivation")
struct TrackingDerivationTests {
    let a = InstallationIdentity(deviceObserverUID: "2.25.1", trackingSecret: String(repeating: "0f", count: 32))
    let b = InstallationIdentity(deviceObserverUID: "2.25.2", trackingSecret: String(repeating: "f0", count: 32))

    @Test func stablePerPatientDistinctPerZonePatientAndInstallation() {
        let t1 = TrackingDerivation.uids(installation: a, patientID: "BRX-0001", issuer: "HOSP")
        let t2 = TrackingDerivation.uids(installation: a, patientID: "BRX-0001", issuer: "HOSP")
        #expect(t1 == t2)
        let all = Array(t1.zones.values) + [t1.global]
        #expect(Set(all).count == 7)
        #expect(all.allSatisfy { DicomUID.isValid($0) && $0.hasPrefix("2.25.") })
        #expect(TrackingDerivation.uids(installation: a, patientID: "BRX-0002", issuer: "HOSP").global != t1.global)
        #expect(TrackingDerivation.uids(installation: a, patientID: "BRX-0001", issuer: nil).global != t1.global)
        #expect(TrackingDerivation.uids(installation: b, patientID: "BRX-0001", issuer: "HOSP").global != t1.global)
        // NUL-separated: ("AB", "C") and ("A", "BC") are different patients.
        #expect(TrackingDerivation.uids(installation: a, patientID: "C", issuer: "AB").global
                != TrackingDerivation.uids(installation: a, patientID: "BC", issuer: "A").global)
    }

    @Test func freshInstallationsDiffer() {
        let x = TrackingDerivation.freshInstallation(), y = TrackingDerivation.freshInstallation()
        #expect(x.deviceObserverUID != y.deviceObserverUID && x.trackingSecret != y.trackingSecret)
        #expect(x.trackingSecret.utf8.count == 64 && DicomUID.isValid(x.deviceObserverUID))
    }
}
