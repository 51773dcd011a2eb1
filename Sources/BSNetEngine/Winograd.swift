/// Winograd F(2x2,3x3) and F(4x4,3x3) for 3x3 / stride 1 / pad 1 convolutions (the decoder's bulk).
///
/// Each m x m output tile (m = 2 or 4) comes from an a x a input tile, a = m + 2: V = B^T d B per
/// channel, then for each of the a^2 transform positions one SGEMM M_k (tiles x Cout) = V_k (tiles x
/// Cin) * U_k (Cin x Cout) with U = G g G^T precomputed at load time (Double), then Y = A^T M A.
/// F(2x2,3x3): 16 multiplications per 4 outputs instead of 36 (2.25x fewer); F(4x4,3x3): 36 per 16
/// outputs (4x fewer), with interpolation points 0, +-1, +-2 (the usual choice, float32 error a few
/// ulp of the operand magnitudes, see docs/engine.md).
///
/// Work is split over the `WorkerPool` by blocks of tiles: each worker transforms its own block into
/// its own scratch, runs the a^2 single-threaded SGEMMs and writes its output tiles, so the GEMM
/// operands stay in the worker's cache. Inputs may be several tensors concatenated along channels
/// (implicit concat, as for `Conv2DKernel`); bias and activation are fused into the output transform.
public final class WinogradConv3x3Kernel {
    public let cin: Int, cout: Int
    /// Output tile size m (2 or 4).
    public let tile: Int
    /// a^2 matrices (cin x cout), position k = a*row + col of the a x a transform.
    let u: [Float]
    let bias: [Float]?
    public let activation: Activation

    var alpha: Int { tile + 2 }

    /// `weights`: Keras Conv2D kernel (3,3,cin,cout), already scaled by any folded BN.
    /// `tile`: 2 for F(2x2,3x3), 4 for F(4x4,3x3).
    /// `blockFloats`: scratch floats per block of tiles (see `tilesPerBlock`).
    public init(weights: [Float], cin: Int, cout: Int, bias: [Float]?, activation: Activation, tile: Int = 2,
                blockFloats: Int = WinogradConv3x3Kernel.defaultBlockFloats) {
        precondition(weights.count == 9 * cin * cout)
        precondition(tile == 2 || tile == 4, "Winograd output tile must be 2 or 4")
        self.cin = cin; self.cout = cout; self.bias = bias; self.activation = activation; self.tile = tile
        self.blockFloats = blockFloats
        let G = tile == 2 ? Self.g2 : Self.g4
        let a = tile + 2
        var u = [Float](repeating: 0, count: a * a * cin * cout)
        var g = [Double](repeating: 0, count: 9), gt = [Double](repeating: 0, count: 3 * a)
        for ci in 0..<cin {
            for co in 0..<cout {
                for y in 0..<3 { for x in 0..<3 { g[y * 3 + x] = Double(weights[((y * 3 + x) * cin + ci) * cout + co]) } }
                // gt = G g (a x 3), then U = gt G^T (a x a).
                for i in 0..<a { for x in 0..<3 { gt[i * 3 + x] = G[i][0] * g[x] + G[i][1] * g[3 + x] + G[i][2] * g[6 + x] } }
                for i in 0..<a {
                    for j in 0..<a {
                        let s = gt[i * 3] * G[j][0] + gt[i * 3 + 1] * G[j][1] + gt[i * 3 + 2] * G[j][2]
                        u[((i * a + j) * cin + ci) * cout + co] = Float(s)
                    }
                }
            }
        }
        self.u = u
    }

    private init(u: [Float], cin: Int, cout: Int, bias: [Float]?, activation: Activation, tile: Int, blockFloats: Int) {
        self.u = u; self.cin = cin; self.cout = cout; self.bias = bias; self.activation = activation
        self.tile = tile; self.blockFloats = blockFloats
    }

    /// The same convolution restricted to the input channels `channels` (in that order), i.e. the
    /// contribution of those channels alone; conv over a concatenation is the sum of such parts.
    /// Bias and activation as given (a partial sum usually wants neither, or the bias only once).
    func selecting(inputChannels channels: [Int], bias keepBias: Bool, activation: Activation) -> WinogradConv3x3Kernel {
        let aa = alpha * alpha, n = channels.count
        var v = [Float](repeating: 0, count: aa * n * cout)
        u.withUnsafeBufferPointer { src in
            v.withUnsafeMutableBufferPointer { dst in
                for k in 0..<aa {
                    for (j, ci) in channels.enumerated() {
                        (dst.baseAddress! + (k * n + j) * cout).update(from: src.baseAddress! + (k * cin + ci) * cout, count: cout)
                    }
                }
            }
        }
        return WinogradConv3x3Kernel(u: v, cin: n, cout: cout, bias: keepBias ? bias : nil, activation: activation,
                                     tile: tile, blockFloats: blockFloats)
    }

    static let g2: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    static let g4: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                                 [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]

    public func outputShape(_ s: Shape4) -> Shape4 { Shape4(s.n, s.h, s.w, cout) }

    /// Tiles per block: the block's transformed input and GEMM result (a^2 x tiles x (cin + cout)
    /// floats) up to `blockFloats`, at least 16 tiles. 1 Mi floats (4 MiB, 30-75 tiles on the decoder
    /// convs) measured fastest with the cores free (whole network 1.43-1.51 s vs 1.57-1.60 s with
    /// 4 Mi and 1.57-1.59 s with 512 Ki on 1 thread; 0.94 s vs 1.10-1.14 and 1.03 on 2): big enough
    /// for efficient SGEMMs, small enough that two workers' blocks share the L3.
    func tilesPerBlock(_ tiles: Int) -> Int {
        min(tiles, max(16, blockFloats / (alpha * alpha * (cin + cout))))
    }
    /// Default `blockFloats`: 1 Mi floats (4 MiB) per worker.
    public static let defaultBlockFloats = 1 << 20
    let blockFloats: Int

    func scratchFloats(n: Int, h: Int, w: Int) -> Int {
        let tiles = n * ((h + tile - 1) / tile) * ((w + tile - 1) / tile)
        return alpha * alpha * tilesPerBlock(tiles) * (cin + cout)
    }

    /// Single-threaded run (tests, tools).
    public func run(_ parts: [Tensor], into out: Tensor, scratch: Scratch) {
        run(parts, into: out, pool: WorkerPool.serial, scratch: [scratch])
    }

    /// Runs over `pool`; `scratch[w]` is worker w's scratch (at least `pool.size` entries).
    public func run(_ parts: [Tensor], into out: Tensor, pool: WorkerPool, scratch: [Scratch]) {
        let s = parts[0].shape
        precondition(parts.reduce(0) { $0 + $1.shape.c } == cin && out.shape == outputShape(Shape4(s.n, s.h, s.w, cin)))
        precondition(parts.allSatisfy { $0.shape.n == s.n && $0.shape.h == s.h && $0.shape.w == s.w })
        precondition(scratch.count >= pool.size)
        let m = tile, a = alpha, aa = a * a
        let th = (s.h + m - 1) / m, tw = (s.w + m - 1) / m
        let tiles = s.n * th * tw
        // At least two blocks per worker where tiles allow, so that every worker gets a share.
        let block = pool.size == 1 ? tilesPerBlock(tiles)
            : min(tilesPerBlock(tiles), max(16, (tiles + 2 * pool.size - 1) / (2 * pool.size)))
        let blocks = (tiles + block - 1) / block
        let cin = cin, cout = cout, activation = activation
        // F(4x4,3x3) with whole 4-channel vectors and no activation or ReLU: the C transform (widest vectors).
        let vectorOutput = m == 4 && cout % 4 == 0 && (activation == .none || activation == .relu)
        let zeros = [Float](repeating: 0, count: parts.map(\.shape.c).max()!)
        let partPointers = parts.map { UnsafePointer($0.data) }, partChannels = parts.map(\.shape.c)
        let bases = scratch.prefix(pool.size).map { $0.reserve(aa * block * (cin + cout)) }
        u.withUnsafeBufferPointer { up in
            zeros.withUnsafeBufferPointer { zp in
                let bp = bias?.withUnsafeBufferPointer { $0.baseAddress! }
                pool.parallelFor(blocks) { worker, blockIndex in
                    let vBuf = bases[worker]
                    let mBuf = vBuf + aa * block * cin
                    let t0 = blockIndex * block
                    let nt = min(block, tiles - t0)
                    withUnsafeTemporaryAllocation(of: F4.self, capacity: 128) { tp in
                      let tmp = tp.baseAddress!
                      withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: aa) { dp in
                        let d = dp.baseAddress!
                        for t in 0..<nt {
                            let tileIndex = t0 + t
                            let b = tileIndex / (th * tw), ty = (tileIndex / tw) % th, tx = tileIndex % tw
                            var channel0 = 0
                            for (pi, p) in partPointers.enumerated() {
                                let c = partChannels[pi]
                                for i in 0..<a {
                                    let iy = m * ty - 1 + i
                                    for j in 0..<a {
                                        let ix = m * tx - 1 + j
                                        d[i * a + j] = (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w)
                                            ? p + ((b * s.h + iy) * s.w + ix) * c : zp.baseAddress!
                                    }
                                }
                                let v = vBuf + t * cin + channel0
                                if m == 4 && c % 4 == 0 {
                                    Kernels.winograd4x4Input(d, v, block * cin, c)
                                } else {
                                    Self.inputTransform(tile: m, d, v, block * cin, c, tmp)
                                }
                                channel0 += c
                            }
                        }
                      }
                    for k in 0..<aa {
                        Kernels.sgemm(m: nt, n: cout, k: cin, a: vBuf + k * block * cin, lda: cin,
                                      b: up.baseAddress! + k * cin * cout, ldb: cout, c: mBuf + k * block * cout, ldc: cout)
                    }
                    for t in 0..<nt {
                        let tileIndex = t0 + t
                        let b = tileIndex / (th * tw), ty = (tileIndex / tw) % th, tx = tileIndex % tw
                        let oy = m * ty, ox = m * tx
                        let rows = min(m, s.h - oy), cols = min(m, s.w - ox)
                        let dst = out.data + ((b * s.h + oy) * s.w + ox) * cout
                        let src = mBuf + t * cout
                        if vectorOutput {
                            Kernels.winograd4x4Output(src, block * cout, dst, s.w * cout, rows, cols, cout, bp, relu: activation == .relu)
                        } else {
                            Self.outputTransform(tile: m, src, block * cout, dst, s.w * cout, rows, cols, cout, bp, activation, tmp)
                        }
                    }
                    }
                }
            }
        }
    }

    // MARK: - Transforms, vectorised over channels (4 at a time; a 1-3 channel tail goes through a
    // zero-padded copy and is stored lane by lane).

    typealias F4 = SIMD4<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> F4 { UnsafeRawPointer(p).loadUnaligned(as: F4.self) }
    @inline(__always) static func store(_ x: F4, _ p: UnsafeMutablePointer<Float>, lanes: Int) {
        if lanes == 4 { UnsafeMutableRawPointer(p).storeBytes(of: x, as: F4.self) } else { for l in 0..<lanes { p[l] = x[l] } }
    }

    /// 1-D B^T for F(2,3): [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]].
    @inline(__always) static func bt2(_ d0: F4, _ d1: F4, _ d2: F4, _ d3: F4) -> (F4, F4, F4, F4) {
        (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
    }
    /// 1-D B^T for F(4,3), points 0, 1, -1, 2, -2:
    /// [[4,0,-5,0,1,0],[0,-4,-4,1,1,0],[0,4,-4,-1,1,0],[0,-2,-1,2,1,0],[0,2,-1,-2,1,0],[0,4,0,-5,0,1]].
    @inline(__always) static func bt4(_ d0: F4, _ d1: F4, _ d2: F4, _ d3: F4, _ d4: F4, _ d5: F4) -> (F4, F4, F4, F4, F4, F4) {
        let s12 = d1 + d2, s34 = d3 + d4, m12 = d1 - d2, m43 = d4 - d3, m42 = d4 - d2, m31 = d3 - d1
        return (4 * d0 - 5 * d2 + d4, s34 - 4 * s12, m43 + 4 * m12, m42 + 2 * m31, m42 - 2 * m31, 4 * d1 - 5 * d3 + d5)
    }

    /// V = B^T d B for `c` channels; d = a^2 channel pointers (row-major a x a tile), position k
    /// written at v + k*stride. `tmp` holds at least 36 + 36 vectors.
    static func inputTransform(tile m: Int, _ d: UnsafeMutablePointer<UnsafePointer<Float>>, _ v: UnsafeMutablePointer<Float>,
                               _ stride: Int, _ c: Int, _ tmp: UnsafeMutablePointer<F4>) {
        let a = m + 2, aa = a * a
        var ci = 0
        while ci < c {
            let lanes = min(4, c - ci)
            let src: UnsafeMutablePointer<UnsafePointer<Float>>
            var off = ci
            if lanes == 4 {
                src = d
            } else {
                // Tail: copy the remaining channels of every position into zero-padded vectors.
                let pad = UnsafeMutableRawPointer(tmp + 36).assumingMemoryBound(to: Float.self)
                let ptrs = UnsafeMutableRawPointer(tmp + 72).assumingMemoryBound(to: UnsafePointer<Float>.self)
                for k in 0..<aa {
                    for l in 0..<4 { pad[4 * k + l] = l < lanes ? d[k][ci + l] : 0 }
                    ptrs[k] = UnsafePointer(pad + 4 * k)
                }
                src = ptrs
                off = 0
            }
            if m == 2 {
                for j in 0..<4 {
                    let t = bt2(load(src[j] + off), load(src[4 + j] + off), load(src[8 + j] + off), load(src[12 + j] + off))
                    tmp[j] = t.0; tmp[4 + j] = t.1; tmp[8 + j] = t.2; tmp[12 + j] = t.3
                }
                for r in 0..<4 {
                    let t = bt2(tmp[4 * r], tmp[4 * r + 1], tmp[4 * r + 2], tmp[4 * r + 3])
                    let o = v + 4 * r * stride + ci
                    store(t.0, o, lanes: lanes); store(t.1, o + stride, lanes: lanes)
                    store(t.2, o + 2 * stride, lanes: lanes); store(t.3, o + 3 * stride, lanes: lanes)
                }
            } else {
                for j in 0..<6 {
                    let t = bt4(load(src[j] + off), load(src[6 + j] + off), load(src[12 + j] + off),
                                load(src[18 + j] + off), load(src[24 + j] + off), load(src[30 + j] + off))
                    tmp[j] = t.0; tmp[6 + j] = t.1; tmp[12 + j] = t.2; tmp[18 + j] = t.3; tmp[24 + j] = t.4; tmp[30 + j] = t.5
                }
                for r in 0..<6 {
                    let q = tmp + 6 * r
                    let t = bt4(q[0], q[1], q[2], q[3], q[4], q[5])
                    let o = v + 6 * r * stride + ci
                    store(t.0, o, lanes: lanes); store(t.1, o + stride, lanes: lanes); store(t.2, o + 2 * stride, lanes: lanes)
                    store(t.3, o + 3 * stride, lanes: lanes); store(t.4, o + 4 * stride, lanes: lanes); store(t.5, o + 5 * stride, lanes: lanes)
                }
            }
            ci += lanes
        }
    }

    /// Y = A^T M A + bias, activated, for one tile: M position k at src + k*ms (cout channels), Y row r
    /// at dst + r*rowStride, column x at + x*cout; only `rows` x `cols` outputs exist (image border).
    static func outputTransform(tile m: Int, _ src: UnsafePointer<Float>, _ ms: Int, _ dst: UnsafeMutablePointer<Float>, _ rowStride: Int,
                                _ rows: Int, _ cols: Int, _ cout: Int, _ bias: UnsafePointer<Float>?, _ activation: Activation,
                                _ tmp: UnsafeMutablePointer<F4>) {
        let a = m + 2, aa = a * a
        var co = 0
        while co < cout {
            let lanes = min(4, cout - co)
            var s = src + co, sms = ms
            if lanes < 4 {
                let pad = UnsafeMutableRawPointer(tmp + 36).assumingMemoryBound(to: Float.self)
                for k in 0..<aa { for l in 0..<4 { pad[4 * k + l] = l < lanes ? src[k * ms + co + l] : 0 } }
                s = UnsafePointer(pad); sms = 4
            }
            var b = F4()
            if let bias {
                if lanes == 4 { b = load(bias + co) } else { for l in 0..<lanes { b[l] = bias[co + l] } }
            }
            // Pass 1 over rows i (a -> m) for every column j, pass 2 over columns.
            for j in 0..<a {
                if m == 2 {
                    let m0 = load(s + j * sms), m1 = load(s + (4 + j) * sms), m2 = load(s + (8 + j) * sms), m3 = load(s + (12 + j) * sms)
                    tmp[j] = m0 + m1 + m2; tmp[4 + j] = m1 - m2 - m3
                } else {
                    let m0 = load(s + j * sms), m1 = load(s + (6 + j) * sms), m2 = load(s + (12 + j) * sms)
                    let m3 = load(s + (18 + j) * sms), m4 = load(s + (24 + j) * sms), m5 = load(s + (30 + j) * sms)
                    let p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4
                    tmp[j] = m0 + p12 + p34; tmp[6 + j] = d12 + 2 * d34; tmp[12 + j] = p12 + 4 * p34; tmp[18 + j] = d12 + 8 * d34 + m5
                }
            }
            for r in 0..<rows {
                let q = tmp + a * r
                var y0: F4, y1: F4, y2 = F4(), y3 = F4()
                if m == 2 {
                    y0 = q[0] + q[1] + q[2]; y1 = q[1] - q[2] - q[3]
                } else {
                    let p12 = q[1] + q[2], d12 = q[1] - q[2], p34 = q[3] + q[4], d34 = q[3] - q[4]
                    y0 = q[0] + p12 + p34; y1 = d12 + 2 * d34; y2 = p12 + 4 * p34; y3 = d12 + 8 * d34 + q[5]
                }
                let row = dst + r * rowStride + co
                for x in 0..<cols {
                    var y = (x == 0 ? y0 : x == 1 ? y1 : x == 2 ? y2 : y3) + b
                    switch activation {
                    case .none: break
                    case .relu: y = y.replacing(with: 0, where: y .< 0)
                    case .sigmoid, .swish: for l in 0..<4 { y[l] = activation.apply(y[l]) }
                    }
                    store(y, row + x * cout, lanes: lanes)
                }
            }
            co += lanes
        }
    }
}
