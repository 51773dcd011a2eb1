import Foundation

/// Minimal PNG writer (8-bit RGB) with its own deflate, so the Reports module needs no zlib/libpng:
/// per-row filter choice (None/Sub/Up, smallest sum of magnitudes), then greedy LZ77 (one hash candidate,
/// 32 KiB window) coded with the fixed Huffman tables. Report pages are mostly flat colour and compress well.
enum PNGEncoder {
    static func encodeRGB(_ rgb: [UInt8], width: Int, height: Int) -> Data {
        precondition(rgb.count == width * height * 3)
        let stride = width * 3
        var raw = [UInt8](); raw.reserveCapacity((stride + 1) * height)
        var cand = [[UInt8]](repeating: [UInt8](repeating: 0, count: stride), count: 3)
        for y in 0..<height {
            let row = y * stride
            for x in 0..<stride {
                let v = rgb[row + x]
                cand[0][x] = v
                cand[1][x] = v &- (x >= 3 ? rgb[row + x - 3] : 0)
                cand[2][x] = v &- (y > 0 ? rgb[row - stride + x] : 0)
            }
            func cost(_ r: [UInt8]) -> Int { r.reduce(0) { $0 + ($1 < 128 ? Int($1) : 256 - Int($1)) } }
            let best = (0..<3).min { cost(cand[$0]) < cost(cand[$1]) }!
            raw.append(UInt8(best))
            raw.append(contentsOf: cand[best])
        }
        var out = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var ihdr = Data()
        ihdr.appendBE(UInt32(width)); ihdr.appendBE(UInt32(height))
        ihdr.append(contentsOf: [8, 2, 0, 0, 0]) // depth 8, colour type RGB, deflate, filter 0, no interlace
        chunk("IHDR", ihdr, into: &out)
        chunk("IDAT", zlib(raw), into: &out)
        chunk("IEND", Data(), into: &out)
        return out
    }

    private static func chunk(_ type: String, _ body: Data, into out: inout Data) {
        out.appendBE(UInt32(body.count))
        var typed = Data(type.utf8); typed.append(body)
        out.append(typed)
        out.appendBE(crc32(typed))
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ d: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in d { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    private struct BitWriter {
        var bytes = [UInt8](); var acc: UInt32 = 0; var n: UInt32 = 0
        mutating func bits(_ v: UInt32, _ count: UInt32) { // LSB first
            acc |= v << n; n += count
            while n >= 8 { bytes.append(UInt8(acc & 0xFF)); acc >>= 8; n -= 8 }
        }
        mutating func huff(_ code: UInt32, _ len: UInt32) { // Huffman codes go MSB first
            var r: UInt32 = 0
            for i in 0..<len { r |= ((code >> i) & 1) << (len - 1 - i) }
            bits(r, len)
        }
        mutating func flush() { if n > 0 { bytes.append(UInt8(acc & 0xFF)); acc = 0; n = 0 } }
    }

    private static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                            67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [UInt32] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
                                                5, 5, 5, 5, 0]

    private static let distBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                          1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distExtra: [UInt32] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
                                              11, 11, 12, 12, 13, 13]

    private static func symbol(_ w: inout BitWriter, _ s: Int) {
        switch s {
        case 0...143: w.huff(UInt32(0x30 + s), 8)
        case 144...255: w.huff(UInt32(0x190 + s - 144), 9)
        case 256...279: w.huff(UInt32(s - 256), 7)
        default: w.huff(UInt32(0xC0 + s - 280), 8)
        }
    }

    static func zlib(_ data: [UInt8]) -> Data {
        var w = BitWriter()
        w.bytes = [0x78, 0x01]
        w.bits(1, 1); w.bits(1, 2) // final block, fixed Huffman
        var head = [Int](repeating: -1, count: 1 << 15)
        func hash(_ i: Int) -> Int { (Int(data[i]) << 10 ^ Int(data[i + 1]) << 5 ^ Int(data[i + 2])) & 0x7FFF }
        var i = 0
        while i < data.count {
            var len = 0, dist = 0
            if i + 2 < data.count {
                let h = hash(i), j = head[h]
                head[h] = i
                // Distance 1 (byte runs) first, then the hashed candidate; keep the longer.
                for c in [i - 1, j] where c >= 0 && i - c <= 32768 && c < i {
                    var n = 0
                    while n < 258 && i + n < data.count && data[c + n] == data[i + n] { n += 1 }
                    if n > len { len = n; dist = i - c }
                }
            }
            if len >= 3 {
                var k = lengthBase.count - 1
                while lengthBase[k] > len { k -= 1 }
                symbol(&w, 257 + k)
                w.bits(UInt32(len - lengthBase[k]), lengthExtra[k])
                var d = distBase.count - 1
                while distBase[d] > dist { d -= 1 }
                w.huff(UInt32(d), 5)
                w.bits(UInt32(dist - distBase[d]), distExtra[d])
                for p in (i + 1)..<min(i + len, data.count - 2) { head[hash(p)] = p }
                i += len
            } else {
                symbol(&w, Int(data[i])); i += 1
            }
        }
        symbol(&w, 256)
        w.flush()
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        var out = Data(w.bytes)
        out.appendBE(b << 16 | a)
        return out
    }
}

extension Data {
    mutating func appendBE(_ v: UInt32) {
        append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
}
