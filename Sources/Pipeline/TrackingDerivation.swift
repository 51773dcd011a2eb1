import BrixiaDomain
import Crypto
import Foundation
import Reports
import Store

/// The TID 1501 Tracking Unique Identifiers of a patient, derived instead of stored: the first 128 bits of
/// HMAC-SHA256(installation tracking secret, issuer + patient ID + zone), marked as an RFC 9562 version-8
/// UUID, written as 2.25.<decimal> (PS3.5 B.2). Every exam of one patient at one installation gets the
/// same identifiers (for each zone A-F and for the global score) without a table, and they reveal nothing
/// of the patient ID to anyone without the installation's database. docs/reports.md describes the scheme.
public enum TrackingDerivation {
    public static func uids(installation: InstallationIdentity, patientID: String, issuer: String?) -> TrackingUIDs {
        var zones: [Zone: String] = [:]
        for z in Zone.allCases { zones[z] = uid(installation, patientID, issuer, "zone " + z.rawValue) }
        return TrackingUIDs(zones: zones, global: uid(installation, patientID, issuer, "global"))
    }

    /// A new installation: a random 2.25 Device Observer UID and a random 256-bit tracking secret.
    public static func freshInstallation() -> InstallationIdentity {
        let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        return InstallationIdentity(deviceObserverUID: DicomUID.make(root: "2.25"),
                                    trackingSecret: secret.map { String(format: "%02x", $0) }.joined())
    }

    static func uid(_ installation: InstallationIdentity, _ patientID: String, _ issuer: String?, _ label: String) -> String {
        // NUL separators: no two (issuer, patient, label) triples give the same message.
        let message = Data("brixia-tracking\u{0}\(issuer ?? "")\u{0}\(patientID)\u{0}\(label)".utf8)
        let key = SymmetricKey(data: Data(installation.trackingSecret.utf8))
        var b = Array(HMAC<SHA256>.authenticationCode(for: message, using: key).prefix(16))
        b[6] = (b[6] & 0x0F) | 0x80   // version 8 (custom)
        b[8] = (b[8] & 0x3F) | 0x80   // RFC 4122/9562 variant
        let uuid = UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
        return DicomUID.make(root: "2.25", uuid: uuid)
    }
}
