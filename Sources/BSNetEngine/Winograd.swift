/// Winograd F(2x2, 3x3) for 3x3 / stride 1 / pad 1 convolutions (the decoder's bulk).
///
/// Each 2x2 output tile comes from a 4x4 input tile: V = B^T d B per channel, then for each of the
/// 16 transform positions one SGEMM M_k (tiles x Cout) = V_k (tiles x Cin) * U_k (Cin x Cout) with
/// U = G g G^T precomputed at load time, then Y = A^T M A. 16 multiplications per tile instead of 36:
/// 2.25x fewer multiply-adds in the GEMMs. Inputs may be several tensors concatenated along channels,
/// as for `Conv2DKernel`; bias and activation are fused into the output transform.
public final class WinogradConv3x3Kernel {
    public let cin: Int, cout: Int
    /// 16 matrices (cin x cout), position k = 4*row + col of the 4x4 transform.
    let u: [Float]
    let bias: [Float]?
    public let activation: Activation

    /// `weights`: Keras Conv2D kernel (3,3,cin,cout), already scaled by any folded BN.
    public init(weights: [Float], cin: Int, cout: Int, bias: [Float]?, activation: Activation) {
        precondition(weights.count == 9 * cin * cout)
        self.cin = cin; self.cout = cout; self.bias = bias; self.activation = activation
        var u = [Float](repeating: 0, count: 16 * cin * cout)
        // G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]], computed in Double.
        let G: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        for ci in 0..<cin {
            for co in 0..<cout {
                var g = [[Double]](repeating: [0, 0, 0], count: 3)
                for y in 0..<3 { for x in 0..<3 { g[y][x] = Double(weights[((y * 3 + x) * cin + ci) * cout + co]) } }
                for i in 0..<4 {
                    for j in 0..<4 {
                        var s = 0.0
                        for a in 0..<3 { for b in 0..<3 { s += G[i][a] * g[a][b] * G[j][b] } }
                        u[((i * 4 + j) * cin + ci) * cout + co] = Float(s)
                    }
                }
            }
        }
        self.u = u
    }

    public func outputShape(_ s: Shape4) -> Shape4 { Shape4(s.n, s.h, s.w, cout) }

    private func tilesPerBlock(_ tiles: Int) -> Int { min(tiles, max(16, (1 << 21) / (16 * (cin + cout)))) }

    func scratchFloats(n: Int, h: Int, w: Int) -> Int {
        let tiles = n * ((h + 1) / 2) * ((w + 1) / 2)
        return 16 * tilesPerBlock(tiles) * (cin + cout)
    }

    public func run(_ parts: [Tensor], into out: Tensor, scratch: Scratch) {
        let s = parts[0].shape
        precondition(parts.reduce(0) { $0 + $1.shape.c } == cin && out.shape == outputShape(Shape4(s.n, s.h, s.w, cin)))
        let th = (s.h + 1) / 2, tw = (s.w + 1) / 2
        let tiles = s.n * th * tw
        let block = tilesPerBlock(tiles)
        let vBuf = scratch.reserve(16 * block * (cin + cout))
        let mBuf = vBuf + 16 * block * cin
        let zeros = [Float](repeating: 0, count: cin)
        let dPointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 16)
        defer { dPointers.deallocate() }
        u.withUnsafeBufferPointer { up in
            zeros.withUnsafeBufferPointer { zp in
                let bp = bias?.withUnsafeBufferPointer { $0.baseAddress! }
                var t0 = 0
                while t0 < tiles {
                    let nt = min(block, tiles - t0)
                    // Input transform, channel-vectorised: V[k][t][ci].
                    for t in 0..<nt {
                        let tile = t0 + t
                        let b = tile / (th * tw), ty = (tile / tw) % th, tx = tile % tw
                        var channel0 = 0
                        for p in parts {
                            let c = p.shape.c
                            let dp = dPointers
                            for k in 0..<16 { dp[k] = zp.baseAddress! }
                            for i in 0..<4 {
                                let iy = 2 * ty - 1 + i
                                guard iy >= 0 && iy < s.h else { continue }
                                for j in 0..<4 {
                                    let ix = 2 * tx - 1 + j
                                    guard ix >= 0 && ix < s.w else { continue }
                                    dp[i * 4 + j] = UnsafePointer(p.data + ((b * s.h + iy) * s.w + ix) * c)
                                }
                            }
                            let stride = block * cin
                            let v = vBuf + t * cin + channel0
                            Self.inputTransform(dp, v, stride, c)
                            channel0 += c
                        }
                    }
                    for k in 0..<16 {
                        Blas.sgemm(m: nt, n: cout, k: cin, a: vBuf + k * block * cin, lda: cin,
                                   b: up.baseAddress! + k * cin * cout, ldb: cout, c: mBuf + k * block * cout, ldc: cout)
                    }
                    // Output transform Y = A^T M A, A^T = [[1,1,1,0],[0,1,-1,-1]], then bias + activation.
                    let ms = block * cout
                    for t in 0..<nt {
                        let tile = t0 + t
                        let b = tile / (th * tw), ty = (tile / tw) % th, tx = tile % tw
                        let m = mBuf + t * cout
                        let oy = 2 * ty, ox = 2 * tx
                        let row0 = out.data + ((b * s.h + oy) * s.w + ox) * cout
                        let hasRow1 = oy + 1 < s.h, hasCol1 = ox + 1 < s.w
                        let row1 = row0 + s.w * cout
                        for co in 0..<cout {
                            let s0 = m[0 * ms + co] + m[4 * ms + co] + m[8 * ms + co]
                            let s1 = m[1 * ms + co] + m[5 * ms + co] + m[9 * ms + co]
                            let s2 = m[2 * ms + co] + m[6 * ms + co] + m[10 * ms + co]
                            let s3 = m[3 * ms + co] + m[7 * ms + co] + m[11 * ms + co]
                            let r0 = m[4 * ms + co] - m[8 * ms + co] - m[12 * ms + co]
                            let r1 = m[5 * ms + co] - m[9 * ms + co] - m[13 * ms + co]
                            let r2 = m[6 * ms + co] - m[10 * ms + co] - m[14 * ms + co]
                            let r3 = m[7 * ms + co] - m[11 * ms + co] - m[15 * ms + co]
                            row0[co] = s0 + s1 + s2
                            if hasCol1 { row0[cout + co] = s1 - s2 - s3 }
                            if hasRow1 {
                                row1[co] = r0 + r1 + r2
                                if hasCol1 { row1[cout + co] = r1 - r2 - r3 }
                            }
                        }
                        biasActivate(row0, rows: hasCol1 ? 2 : 1, cols: cout, ld: cout, bias: bp, activation: activation)
                        if hasRow1 { biasActivate(row1, rows: hasCol1 ? 2 : 1, cols: cout, ld: cout, bias: bp, activation: activation) }
                    }
                    t0 += nt
                }
            }
        }
    }

    /// V = B^T d B for `c` channels; d = 16 channel vectors (row-major 4x4), V position k at v + k*stride.
    @inline(__always)
    static func inputTransform(_ d: UnsafeMutablePointer<UnsafePointer<Float>>, _ v: UnsafeMutablePointer<Float>, _ stride: Int, _ c: Int) {
        let p0 = d[0], p1 = d[1], p2 = d[2], p3 = d[3], p4 = d[4], p5 = d[5], p6 = d[6], p7 = d[7]
        let p8 = d[8], p9 = d[9], p10 = d[10], p11 = d[11], p12 = d[12], p13 = d[13], p14 = d[14], p15 = d[15]
        let v0 = v, v1 = v + stride, v2 = v + 2 * stride, v3 = v + 3 * stride
        let v4 = v + 4 * stride, v5 = v + 5 * stride, v6 = v + 6 * stride, v7 = v + 7 * stride
        let v8 = v + 8 * stride, v9 = v + 9 * stride, v10 = v + 10 * stride, v11 = v + 11 * stride
        let v12 = v + 12 * stride, v13 = v + 13 * stride, v14 = v + 14 * stride, v15 = v + 15 * stride
        for ci in 0..<c {
            // t = B^T d (rows), then V = t B (columns).
            let a0 = p0[ci] - p8[ci], a1 = p1[ci] - p9[ci], a2 = p2[ci] - p10[ci], a3 = p3[ci] - p11[ci]
            let b0 = p4[ci] + p8[ci], b1 = p5[ci] + p9[ci], b2 = p6[ci] + p10[ci], b3 = p7[ci] + p11[ci]
            let c0 = p8[ci] - p4[ci], c1 = p9[ci] - p5[ci], c2 = p10[ci] - p6[ci], c3 = p11[ci] - p7[ci]
            let e0 = p4[ci] - p12[ci], e1 = p5[ci] - p13[ci], e2 = p6[ci] - p14[ci], e3 = p7[ci] - p15[ci]
            v0[ci] = a0 - a2; v1[ci] = a1 + a2; v2[ci] = a2 - a1; v3[ci] = a1 - a3
            v4[ci] = b0 - b2; v5[ci] = b1 + b2; v6[ci] = b2 - b1; v7[ci] = b1 - b3
            v8[ci] = c0 - c2; v9[ci] = c1 + c2; v10[ci] = c2 - c1; v11[ci] = c1 - c3
            v12[ci] = e0 - e2; v13[ci] = e1 + e2; v14[ci] = e2 - e1; v15[ci] = e1 - e3
        }
    }
}
