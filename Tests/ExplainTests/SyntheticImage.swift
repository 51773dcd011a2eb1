/// The integer-only test image of Fixtures/make_slic_reference.py (same bytes in Swift and numpy).
enum SyntheticImage {
    static let size = 512

    static func gray8() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                var v = 60 + (x + y) / 8
                if (x - 170) * (x - 170) + (y - 180) * (y - 180) < 90 * 90 { v += 60 }
                if (x - 360) * (x - 360) + (y - 330) * (y - 330) < 110 * 110 { v -= 50 }
                if x >= 60 && x < 200 && y >= 380 && y < 480 { v += 45 }
                if (x / 16 + y / 16) % 2 == 0 && x > 400 && y < 200 { v += 30 }
                v += (x * 7919 + y * 104729) % 17 - 8
                out[y * size + x] = UInt8(min(max(v, 0), 255))
            }
        }
        return out
    }
}
