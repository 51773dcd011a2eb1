import Testing
@testable import BSNetEngine

/// Every fast kernel against its naive reference on random data.
@Suite struct KernelTests {
    @Test(arguments: [
        (k: 3, stride: 1, pad: 1, h: 9, w: 7, cin: 5, cout: 6),
        (k: 3, stride: 2, pad: 1, h: 10, w: 9, cin: 4, cout: 3),
        (k: 7, stride: 2, pad: 3, h: 16, w: 16, cin: 1, cout: 8),
        (k: 1, stride: 1, pad: 0, h: 5, w: 6, cin: 7, cout: 4),
        (k: 1, stride: 2, pad: 0, h: 8, w: 8, cin: 3, cout: 5),
        (k: 5, stride: 1, pad: 0, h: 12, w: 11, cin: 2, cout: 3),
        // One output channel: the direct (non-GEMM) path, with a channel tail (cin % 4 != 0).
        (k: 3, stride: 1, pad: 1, h: 9, w: 7, cin: 34, cout: 1),
        (k: 5, stride: 2, pad: 2, h: 10, w: 9, cin: 3, cout: 1),
    ])
    func conv2dMatchesNaive(_ c: (k: Int, stride: Int, pad: Int, h: Int, w: Int, cin: Int, cout: Int)) {
        var rng = SeededRandom(UInt64(c.k * 1000 + c.cin * 10 + c.stride))
        let x = rng.tensor(Shape4(2, c.h, c.w, c.cin))
        let kernel = rng.array(c.k * c.k * c.cin * c.cout)
        let bias = rng.array(c.cout)
        for act in [Activation.none, .relu, .swish, .sigmoid] {
            let g = ConvGeometry(kernel: c.k, stride: c.stride, pad: c.pad, cin: c.cin, cout: c.cout)
            let fast = Conv2DKernel(geometry: g, weights: kernel, bias: bias, activation: act)
            let out = Tensor(fast.outputShape(x.shape))
            fast.run([x], into: out, scratch: Scratch())
            let ref = ReferenceOps.conv2d(x, kernel: kernel, k: c.k, stride: c.stride, pad: c.pad, cout: c.cout, bias: bias, activation: act)
            #expect(out.shape == ref.shape)
            #expect(maxAbsDiff(out.toArray(), ref.toArray()) < 1e-5)
        }
    }

    @Test func conv2dImplicitConcatMatchesMaterialisedConcat() {
        var rng = SeededRandom(7)
        let parts = [rng.tensor(Shape4(1, 8, 8, 3)), rng.tensor(Shape4(1, 8, 8, 1)), rng.tensor(Shape4(1, 8, 8, 5))]
        let kernel = rng.array(3 * 3 * 9 * 4)
        let fast = Conv2DKernel(geometry: ConvGeometry(kernel: 3, stride: 1, pad: 1, cin: 9, cout: 4), weights: kernel, bias: nil, activation: .relu)
        let out = Tensor(Shape4(1, 8, 8, 4))
        fast.run(parts, into: out, scratch: Scratch())
        let ref = ReferenceOps.conv2d(ReferenceOps.concat(parts), kernel: kernel, k: 3, stride: 1, pad: 1, cout: 4, activation: .relu)
        #expect(maxAbsDiff(out.toArray(), ref.toArray()) < 1e-5)
    }

    @Test func conv2dLargeImageUsesSeveralIm2colBlocks() {
        // 64x64 output rows with K = 9*300 exceed one im2col block; the blocks must tile exactly.
        var rng = SeededRandom(11)
        let x = rng.tensor(Shape4(1, 40, 40, 300))
        let kernel = rng.array(9 * 300 * 2)
        let fast = Conv2DKernel(geometry: ConvGeometry(kernel: 3, stride: 1, pad: 1, cin: 300, cout: 2), weights: kernel, bias: nil, activation: .none)
        let out = Tensor(Shape4(1, 40, 40, 2))
        fast.run([x], into: out, scratch: Scratch())
        let ref = ReferenceOps.conv2d(x, kernel: kernel, k: 3, stride: 1, pad: 1, cout: 2)
        #expect(maxAbsDiff(out.toArray(), ref.toArray()) < 1e-4)
    }

    // The last case spans two blocks of input rows (halo rows at the block boundary).
    @Test(arguments: [(h: 5, w: 4, cin: 3, cout: 6), (h: 8, w: 8, cin: 16, cout: 4), (h: 1, w: 1, cin: 2, cout: 2),
                      (h: 40, w: 64, cin: 64, cout: 5)])
    func convTransposeSubPixelMatchesNaive(_ c: (h: Int, w: Int, cin: Int, cout: Int)) {
        var rng = SeededRandom(UInt64(c.h * 100 + c.cin))
        let x = rng.tensor(Shape4(2, c.h, c.w, c.cin))
        let kernel = rng.array(16 * c.cin * c.cout)
        let fast = ConvTranspose2DKernel(kerasKernel: kernel, cin: c.cin, cout: c.cout, outScale: nil, bias: nil, activation: .none)
        #expect(c.h < 40 || fast.rowsPerBlock(h: c.h, w: c.w) < c.h)
        let out = Tensor(fast.outputShape(x.shape))
        fast.run(x, into: out, scratch: Scratch())
        let ref = ReferenceOps.convTranspose4x4s2(x, kernel: kernel, cout: c.cout)
        #expect(out.shape == ref.shape)
        #expect(maxAbsDiff(out.toArray(), ref.toArray()) < 2e-6 * max(1, maxAbs(ref.toArray())))
    }

    @Test(arguments: [(h: 5, w: 4, cin: 3, cout: 6), (h: 8, w: 8, cin: 16, cout: 4), (h: 1, w: 1, cin: 2, cout: 2),
                      (h: 7, w: 9, cin: 21, cout: 11), (h: 32, w: 24, cin: 40, cout: 20)])
    func convTransposeWinogradMatchesNaive(_ c: (h: Int, w: Int, cin: Int, cout: Int)) {
        var rng = SeededRandom(UInt64(c.h * 101 + c.cin))
        let x = rng.tensor(Shape4(2, c.h, c.w, c.cin))
        let kernel = rng.array(16 * c.cin * c.cout)
        let gamma = rng.array(c.cout, 0.5, 1.5), beta = rng.array(c.cout), mean = rng.array(c.cout), variance = rng.array(c.cout, 0.2, 2)
        let a = ChannelAffine(gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 1e-3)
        for act in [Activation.none, .relu] {
            // A small block size so that the larger cases span several blocks of tiles.
            let fast = WinogradConvTranspose2DKernel(kerasKernel: kernel, cin: c.cin, cout: c.cout, outScale: a.scale, bias: a.shift,
                                                     activation: act, blockFloats: 1 << 14)
            let out = Tensor(fast.outputShape(x.shape))
            fast.run(x, into: out, scratch: Scratch())
            let ref = ReferenceOps.batchNorm(ReferenceOps.convTranspose4x4s2(x, kernel: kernel, cout: c.cout),
                                             gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 1e-3, activation: act)
            #expect(out.shape == ref.shape)
            #expect(maxAbsDiff(out.toArray(), ref.toArray()) < 1e-5 * max(1, maxAbs(ref.toArray())))
            let parallel = Tensor(fast.outputShape(x.shape))
            fast.run(x, into: parallel, pool: WorkerPool(size: 2), scratch: [Scratch(), Scratch()])
            #expect(maxAbsDiff(out.toArray(), parallel.toArray()) < 1e-5 * max(1, maxAbs(ref.toArray())))
        }
    }

    @Test func convTransposeWithFoldedBatchNormMatchesNaive() {
        var rng = SeededRandom(99)
        let x = rng.tensor(Shape4(1, 6, 6, 5))
        let kernel = rng.array(16 * 5 * 3)
        let gamma = rng.array(3, 0.5, 1.5), beta = rng.array(3), mean = rng.array(3), variance = rng.array(3, 0.2, 2)
        let a = ChannelAffine(gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 1e-3)
        let fast = ConvTranspose2DKernel(kerasKernel: kernel, cin: 5, cout: 3, outScale: a.scale, bias: a.shift, activation: .relu)
        let out = Tensor(fast.outputShape(x.shape))
        fast.run(x, into: out, scratch: Scratch())
        let ref = ReferenceOps.batchNorm(ReferenceOps.convTranspose4x4s2(x, kernel: kernel, cout: 3),
                                         gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 1e-3, activation: .relu)
        #expect(maxAbsDiff(out.toArray(), ref.toArray()) < 1e-5)
    }

    @Test func batchNormAffineMatchesNaive() {
        var rng = SeededRandom(5)
        let x = rng.tensor(Shape4(1, 7, 5, 4))
        let beta = rng.array(4), mean = rng.array(4), variance = rng.array(4, 0.1, 2)
        for gamma in [nil, rng.array(4, 0.5, 1.5)] {
            let a = ChannelAffine(gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 2e-5)
            let out = Tensor(x.shape)
            Pointwise.affine(x, a, .relu, into: out)
            let ref = ReferenceOps.batchNorm(x, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 2e-5, activation: .relu)
            #expect(maxAbsDiff(out.toArray(), ref.toArray()) < 1e-5)
        }
    }

    @Test func activationsMatchNaive() {
        var rng = SeededRandom(6)
        let x = rng.tensor(Shape4(1, 4, 4, 8), -20, 20)
        for act in [Activation.relu, .sigmoid, .swish, .none] {
            let out = Tensor(x.shape)
            Pointwise.activate(x, act, into: out)
            #expect(maxAbsDiff(out.toArray(), ReferenceOps.activation(x, act).toArray()) < 1e-5)
        }
    }

    @Test func addAndMaskMatchNaive() {
        var rng = SeededRandom(8)
        let a = rng.tensor(Shape4(2, 3, 4, 5)), b = rng.tensor(Shape4(2, 3, 4, 5)), m = rng.tensor(Shape4(2, 3, 4, 1))
        let sum = Tensor(a.shape)
        Pointwise.add(a, b, into: sum)
        #expect(sum.toArray() == ReferenceOps.add(a, b).toArray())
        let prod = Tensor(a.shape)
        Pointwise.multiplyMask(a, m, into: prod)
        #expect(prod[1, 2, 3, 4] == a[1, 2, 3, 4] * m[1, 2, 3, 0])
        #expect(prod[0, 1, 0, 2] == a[0, 1, 0, 2] * m[0, 1, 0, 0])
    }

    @Test(arguments: [(k: 3, s: 2, p: 1), (k: 4, s: 4, p: 0), (k: 2, s: 2, p: 0)])
    func maxPoolMatchesNaive(_ c: (k: Int, s: Int, p: Int)) {
        var rng = SeededRandom(UInt64(c.k * 7 + c.p))
        let x = rng.tensor(Shape4(1, 16, 12, 3))   // negative values make the zero padding visible
        let out = Tensor(Pooling.outputShape(x.shape, k: c.k, stride: c.s, pad: c.p))
        Pooling.maxPool(x, k: c.k, stride: c.s, pad: c.p, into: out)
        let ref = ReferenceOps.maxPool(x, k: c.k, stride: c.s, pad: c.p)
        #expect(out.shape == ref.shape)
        #expect(out.toArray() == ref.toArray())
    }

    @Test func globalAveragePoolSoftmaxDenseMatchNaive() {
        var rng = SeededRandom(12)
        let x = rng.tensor(Shape4(3, 16, 16, 4))
        let gap = Tensor(Shape4(3, 1, 1, 4))
        Pooling.globalAverage(x, into: gap)
        #expect(maxAbsDiff(gap.toArray(), ReferenceOps.globalAveragePool(x).toArray()) < 1e-6)
        let sm = Tensor(gap.shape)
        Softmax.run(gap, into: sm)
        for b in 0..<3 {
            let row = Array(gap.toArray()[(4 * b)..<(4 * b + 4)])
            #expect(maxAbsDiff(Array(sm.toArray()[(4 * b)..<(4 * b + 4)]), ReferenceOps.softmax(row)) < 1e-6)
        }
        let d = rng.tensor(Shape4(1, 3, 4, 5))
        let w = rng.array(60 * 7), bias = rng.array(7)
        let out = Tensor(Shape4(1, 1, 1, 7))
        Dense.run(d, weights: w, bias: bias, units: 7, activation: .none, into: out)
        #expect(maxAbsDiff(out.toArray(), ReferenceOps.dense(d.toArray(), weights: w, bias: bias, units: 7)) < 1e-5)
    }

    @Test(arguments: [(from: 512, to: 128), (from: 128, to: 64), (from: 16, to: 16), (from: 5, to: 12), (from: 64, to: 32)])
    func resizeMatchesNaive(_ c: (from: Int, to: Int)) {
        var rng = SeededRandom(UInt64(c.from + c.to))
        let x = rng.tensor(Shape4(1, c.from, c.from, c.from >= 512 ? 1 : 3))
        let out = Tensor(Shape4(1, c.to, c.to, x.shape.c))
        Resample.resizeBilinear(x, into: out)
        #expect(maxAbsDiff(out.toArray(), ReferenceOps.resizeBilinear(x, height: c.to, width: c.to).toArray()) < 1e-6)
    }

    @Test func resizeEvenDownscaleIsCentralTwoByTwoMean() {
        // Spec: 512 -> 128 averages rows/cols 4k+1 and 4k+2.
        var rng = SeededRandom(21)
        let x = rng.tensor(Shape4(1, 512, 512, 1))
        let out = Tensor(Shape4(1, 128, 128, 1))
        Resample.resizeBilinear(x, into: out)
        for (i, j) in [(0, 0), (5, 77), (127, 127)] {
            let e = (x[0, 4 * i + 1, 4 * j + 1, 0] + x[0, 4 * i + 1, 4 * j + 2, 0] + x[0, 4 * i + 2, 4 * j + 1, 0] + x[0, 4 * i + 2, 4 * j + 2, 0]) / 4
            #expect(abs(out[0, i, j, 0] - e) < 1e-6)
        }
    }

    @Test func stnSamplerMatchesNaive() {
        var rng = SeededRandom(31)
        let x = rng.tensor(Shape4(2, 16, 16, 5))
        let theta: [Float] = [1.03747, -0.07255, 0.03, 0.07255, 1.03747, -0.02, 0.9, 0.1, -0.05, -0.1, 1.1, 0.04]
        let out = Tensor(x.shape)
        Resample.stnSample(x, theta: theta, into: out)
        #expect(maxAbsDiff(out.toArray(), ReferenceOps.stnSample(x, theta: theta).toArray()) < 1e-6)
    }

    @Test func stnIdentityQuirks() {
        // Identity theta: column j samples x = j*W/(W-1) (a stretch), last row and column are 0.
        var rng = SeededRandom(32)
        let x = rng.tensor(Shape4(1, 16, 16, 2), 0.5, 1.5)
        let out = Tensor(x.shape)
        Resample.stnSample(x, theta: [1, 0, 0, 0, 1, 0], into: out)
        for k in 0..<16 { for ch in 0..<2 {
            #expect(abs(out[0, 15, k, ch]) < 1e-5)
            #expect(abs(out[0, k, 15, ch]) < 1e-5)
        } }
        #expect(abs(out[0, 0, 0, 0] - x[0, 0, 0, 0]) < 1e-5)
        // Column 1 samples x = 16/15: between pixels 1 and 2 at fraction 1/15.
        let e = x[0, 0, 1, 0] + (x[0, 0, 2, 0] - x[0, 0, 1, 0]) / 15
        #expect(abs(out[0, 0, 1, 0] - e) < 1e-5)
    }

    @Test func stnExtrapolatesJustLeftOfTheImage() {
        // -1 < x < 0 extrapolates linearly from pixels 0 and 1 (x0 = trunc = 0, weights with clipped corners).
        let x = Tensor(Shape4(1, 4, 4, 1), values: (0..<16).map { Float($0 % 4) })   // value = column index
        let out = Tensor(x.shape)
        // Shift so that output column 0 samples x = -0.5 (xs = -1.25), rows unchanged.
        Resample.stnSample(x, theta: [1, 0, -0.25, 0, 1, 0], into: out)
        #expect(abs(out[0, 0, 0, 0] - (-0.5)) < 1e-5)
    }

    @Test func cropZonesMatchNaiveAndBoxGeometry() {
        var rng = SeededRandom(41)
        let x = rng.tensor(Shape4(1, 16, 16, 3))
        let out = Tensor(Shape4(6, 16, 16, 3))
        Resample.cropZones(x, into: out)
        #expect(maxAbsDiff(out.toArray(), ReferenceOps.cropZones(x).toArray()) < 1e-6)
        // Region 1 = [0, 0.5, 0.4, 1]: sample (0,0) is at x = 0.5*15 = 7.5 on row 0.
        #expect(abs(out[1, 0, 0, 2] - (x[0, 0, 7, 2] + x[0, 0, 8, 2]) / 2) < 1e-6)
        // Region 4 = [0.6, 0, 1, 0.5]: last sample row is y = 15 exactly, column 15 is x = 7.5.
        #expect(abs(out[4, 15, 15, 0] - (x[0, 15, 7, 0] + x[0, 15, 8, 0]) / 2) < 1e-6)
    }

    @Test func arenaNeverSharesABufferBetweenOverlappingLifetimes() {
        let sizes = [10, 20, 5, 30, 10, 8]
        let first = [0, 1, 2, 3, 4, 5]
        let last = [2, 3, 4, 6, 5, 6]
        let arena = Arena(valueSizes: sizes, first: first, last: last)
        for a in 0..<sizes.count { for b in 0..<sizes.count where a < b {
            let overlap = first[a] <= last[b] && first[b] <= last[a]
            if overlap { #expect(arena.assignment[a] != arena.assignment[b]) }
        } }
        for v in 0..<sizes.count { #expect(arena.sizes[arena.assignment[v]] >= sizes[v]) }
        #expect(arena.sizes.count < sizes.count)
    }
}

@Suite struct WinogradTests {
    /// Max abs error allowed relative to the output's magnitude: F(4x4,3x3) amplifies float32
    /// rounding more than F(2x2,3x3) (its transforms have entries up to 8 and 1/24).
    static func tolerance(tile: Int, _ ref: Tensor) -> Float { (tile == 2 ? 2e-6 : 2e-5) * max(1, maxAbs(ref.toArray())) }

    @Test(arguments: [2, 4], [(h: 8, w: 8, parts: [16]), (h: 7, w: 9, parts: [5, 12]), (h: 16, w: 12, parts: [40, 24, 8]),
                              (h: 1, w: 3, parts: [17]), (h: 10, w: 5, parts: [3, 1])])
    func winogradMatchesNaive(tile: Int, _ c: (h: Int, w: Int, parts: [Int])) {
        var rng = SeededRandom(UInt64(c.h * 31 + c.w))
        let parts = c.parts.map { rng.tensor(Shape4(2, c.h, c.w, $0)) }
        let cin = c.parts.reduce(0, +)
        for cout in [24, 7] {
            let kernel = rng.array(9 * cin * cout), bias = rng.array(cout)
            // Tolerance from the pre-activation magnitude (a sigmoid output is small, its argument is not).
            let linear = ReferenceOps.conv2d(ReferenceOps.concat(parts), kernel: kernel, k: 3, stride: 1, pad: 1, cout: cout, bias: bias)
            for act in [Activation.none, .relu, .swish, .sigmoid] {
                let fast = WinogradConv3x3Kernel(weights: kernel, cin: cin, cout: cout, bias: bias, activation: act, tile: tile)
                let out = Tensor(Shape4(2, c.h, c.w, cout))
                fast.run(parts, into: out, scratch: Scratch())
                let ref = ReferenceOps.conv2d(ReferenceOps.concat(parts), kernel: kernel, k: 3, stride: 1, pad: 1, cout: cout, bias: bias, activation: act)
                #expect(maxAbsDiff(out.toArray(), ref.toArray()) < Self.tolerance(tile: tile, linear), "tile \(tile) cout \(cout) \(act)")
            }
        }
    }

    @Test(arguments: [2, 4])
    func winogradSpansSeveralTileBlocks(tile: Int) {
        var rng = SeededRandom(77)
        let x = rng.tensor(Shape4(1, 64, 64, 96))
        let kernel = rng.array(9 * 96 * 32)
        let fast = WinogradConv3x3Kernel(weights: kernel, cin: 96, cout: 32, bias: nil, activation: .none, tile: tile, blockFloats: 1 << 18)
        let tiles: Int = (64 / tile) * (64 / tile)
        #expect(fast.tilesPerBlock(tiles) < tiles)
        let out = Tensor(Shape4(1, 64, 64, 32))
        fast.run([x], into: out, scratch: Scratch())
        let ref = ReferenceOps.conv2d(x, kernel: kernel, k: 3, stride: 1, pad: 1, cout: 32)
        #expect(maxAbsDiff(out.toArray(), ref.toArray()) < Self.tolerance(tile: tile, ref))
    }

    /// The same convolution on a pool of 3 workers (blocks claimed in any order) as on one thread.
    @Test(arguments: [2, 4])
    func winogradOnAPoolMatchesSerial(tile: Int) {
        var rng = SeededRandom(78)
        let parts = [rng.tensor(Shape4(1, 40, 36, 48)), rng.tensor(Shape4(1, 40, 36, 16))]
        let kernel = rng.array(9 * 64 * 40), bias = rng.array(40)
        let fast = WinogradConv3x3Kernel(weights: kernel, cin: 64, cout: 40, bias: bias, activation: .relu, tile: tile, blockFloats: 1 << 16)
        let serial = Tensor(Shape4(1, 40, 36, 40)), parallel = Tensor(Shape4(1, 40, 36, 40))
        fast.run(parts, into: serial, scratch: Scratch())
        fast.run(parts, into: parallel, pool: WorkerPool(size: 3), scratch: [Scratch(), Scratch(), Scratch()])
        #expect(maxAbsDiff(serial.toArray(), parallel.toArray()) < 1e-5 * max(1, maxAbs(serial.toArray())))
    }
}

@Suite struct WorkerPoolTests {
    @Test func everyItemRunsExactlyOnce() {
        let pool = WorkerPool(size: 3)
        for count in [0, 1, 2, 5, 1000] {
            for _ in 0..<50 {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                let workers = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                pool.parallelFor(count) { worker, item in hits[item] += 1; workers[item] = worker }
                #expect((0..<count).allSatisfy { hits[$0] == 1 })
                #expect((0..<count).allSatisfy { (0..<3).contains(workers[$0]) })
                hits.deallocate(); workers.deallocate()
            }
        }
    }

    @Test func convolutionsOnAPoolMatchSerial() {
        var rng = SeededRandom(79)
        let x = rng.tensor(Shape4(2, 33, 30, 20))
        let pool = WorkerPool(size: 2)
        for g in [ConvGeometry(kernel: 3, stride: 2, pad: 1, cin: 20, cout: 12), ConvGeometry(kernel: 1, cin: 20, cout: 9),
                  ConvGeometry(kernel: 5, stride: 1, pad: 2, cin: 20, cout: 3)] {
            let fast = Conv2DKernel(geometry: g, weights: rng.array(g.k * g.cout), bias: rng.array(g.cout), activation: .swish)
            let serial = Tensor(fast.outputShape(x.shape)), parallel = Tensor(fast.outputShape(x.shape))
            fast.run([x], into: serial, scratch: Scratch())
            fast.run([x], into: parallel, pool: pool, scratch: [Scratch(), Scratch()])
            #expect(maxAbsDiff(serial.toArray(), parallel.toArray()) < 1e-5)
        }
        let t = ConvTranspose2DKernel(kerasKernel: rng.array(16 * 20 * 6), cin: 20, cout: 6, outScale: nil, bias: rng.array(6), activation: .relu)
        let serial = Tensor(t.outputShape(x.shape)), parallel = Tensor(t.outputShape(x.shape))
        t.run(x, into: serial, scratch: Scratch())
        t.run(x, into: parallel, pool: pool, scratch: [Scratch(), Scratch()])
        #expect(maxAbsDiff(serial.toArray(), parallel.toArray()) < 1e-5)
    }
}
