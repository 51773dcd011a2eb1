import DicomKit
import Foundation

/// UID generation under a configurable root. The default root "2.25" turns a random UUID into
/// 2.25.<128-bit decimal> (PS3.5 B.2), which needs no registration.
public enum DicomUID {
    /// PS3.5 9.1 grammar; the one definition is DicomKit's OutputReadiness.
    public static func isValid(_ uid: String) -> Bool { OutputReadiness.isValidUID(uid) }

    /// root + "." + decimal of a fresh UUID.
    public static func make(root: String, uuid: UUID = UUID()) -> String {
        "\(root).\(decimal(of: uuid))"
    }

    public static func decimal(of uuid: UUID) -> String {
        var bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        var digits: [UInt8] = []
        while bytes.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in bytes.indices {
                let v = remainder << 8 | Int(bytes[i])
                bytes[i] = UInt8(v / 10)
                remainder = v % 10
            }
            digits.append(UInt8(remainder))
        }
        if digits.isEmpty { return "0" }
        return String(digits.reversed().map { Character(String($0)) })
    }
}
