import GRDB

extension Row {
    /// The text column `column` as a value of `E`, nil when NULL. A value this program does not know (written by a
    /// newer brixia, or by hand) is `StoreError.corruptRow`, never a guess such as "failed".
    func known<E: RawRepresentable>(_ type: E.Type, _ column: String, table: String) throws -> E? where E.RawValue == String {
        guard let raw: String = self[column] else { return nil }
        guard let value = E(rawValue: raw) else {
            throw StoreError.corruptRow(table: table, id: self["id"] ?? -1, reason: "unknown \(column.replacingOccurrences(of: "_", with: " ")) '\(raw)'")
        }
        return value
    }

    /// `known` for a NOT NULL column.
    func required<E: RawRepresentable>(_ type: E.Type, _ column: String, table: String) throws -> E where E.RawValue == String {
        guard let value = try known(type, column, table: table) else {
            throw StoreError.corruptRow(table: table, id: self["id"] ?? -1, reason: "\(column) is NULL")
        }
        return value
    }
}
