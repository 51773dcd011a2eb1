import Dispatch

/// BS-Net (the authors' `bscore_model`) on a 512x512 single-channel image in [0,1].
///
/// Built from `BSNetArchitecture.layers`: shapes are inferred once, weights are checked against the
/// inferred Keras shapes and packed (BN folded into the preceding conv where that is exact), and one
/// `Arena` holds every intermediate, so `run` allocates only its outputs. Not thread-safe: one run at
/// a time per instance (the arena is shared by runs).
public final class BSNet {
    let layers: [LayerSpec]
    let shapes: [Shape4]
    let inputIndices: [[Int]]
    private(set) var kernels: [Prepared] = []
    private let arena: Arena
    let values: [Tensor]
    let scratch: [Scratch]
    let pool: WorkerPool
    let index: [String: Int]
    public let threads: Int
    /// Wall-clock seconds of every layer in the last run, in execution order (for profiling).
    public private(set) var lastLayerTimings: [(name: String, seconds: Double)] = []

    enum Prepared {
        case input
        case affine(ChannelAffine, Activation)
        case conv(Conv2DKernel)
        case winograd(WinogradConv3x3Kernel)
        case convTranspose(ConvTranspose2DKernel)
        case winogradTranspose(WinogradConvTranspose2DKernel)
        case maxPool(Int, Int, Int)
        case add
        case dense([Float], [Float], Int, Activation)
        case stnSample
        case resize
        case multiplyMask
        case cropZones
        case selectItem(Int)
        case globalAveragePool
        case softmax
        case mean
    }

    /// Every weight tensor the network needs, with its Keras shape (352 for the full model).
    public static var tensorSpecs: [TensorSpec] { plannedSpecs.flatMap { $0 } }

    /// The tensors of a bundle with `scoreHeads` heads: the 352, plus 136 per extra head ("head<h>/...").
    public static func tensorSpecs(scoreHeads: Int) throws -> [TensorSpec] {
        try inferShapes(BSNetArchitecture.layers(scoreHeads: scoreHeads)).specs.flatMap { $0 }
    }

    /// One score head's tensor names (FPN and classifiers, unprefixed): what every further head repeats under
    /// "head<h>/". The gating before the heads has no weights, so these are the head stage's.
    public static let scoreHeadTensorNames: [String] =
        zip(BSNetArchitecture.layers, plannedSpecs).filter { $0.0.stage == .head }.flatMap { $0.1.map(\.name) }

    /// Score heads present in a set of weight names: the first head plus every consecutive "head<h>/" one
    /// (detected by its last FPN conv; a partly present head then fails as a missing tensor).
    public static func scoreHeads(in names: Set<String>) -> Int {
        var n = 1
        while n < BSNetArchitecture.maxScoreHeads && names.contains(BSNetArchitecture.headPrefix(n) + "P5/kernel") { n += 1 }
        return n
    }

    /// Score heads of this network (their probabilities are averaged; 1 = the authors' BS-Net).
    public let scoreHeads: Int
    /// The layers holding the six region probabilities this network reports.
    public let softmaxOutputs: [String]

    private static let plannedSpecs: [[TensorSpec]] = {
        // The architecture is a constant, so inference cannot fail here; a failure is a programming error.
        try! inferShapes(BSNetArchitecture.layers).specs
    }()

    /// Bytes held by the intermediate-tensor arena.
    public var arenaBytes: Int { arena.totalFloats * 4 }
    /// Names of all layers (usable with `run(_:capturing:)`).
    public var layerNames: [String] { layers.map(\.name) }

    /// Nanosecond clock of the layer timings (monotonic wall clock).
    @inline(__always) static func clock() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// How the convolutions are computed (benchmarks compare the choices; results agree within float rounding).
    public struct KernelOptions: Sendable, Equatable {
        /// 3x3 stride-1 convs with at least 16 input and output channels use Winograd, and the transposed convs
        /// Winograd F(2x2,2x2) on their sub-pixel convolutions; false: plain im2col / sub-pixel GEMMs.
        public var winograd: Bool
        /// Winograd output tile for those convs: 4 = F(4x4,3x3) (default), 2 = F(2x2,3x3).
        public var winogradTile: Int
        public init(winograd: Bool = true, winogradTile: Int = 4) {
            precondition(winogradTile == 2 || winogradTile == 4, "Winograd tile \(winogradTile): 2 or 4")
            self.winograd = winograd; self.winogradTile = winogradTile
        }
    }

    public init(weights: WeightProvider, threads: Int = 1, kernels options: KernelOptions = KernelOptions()) throws {
        self.threads = max(1, threads)
        let available = Set(weights.tensorNames)
        scoreHeads = Self.scoreHeads(in: available)
        softmaxOutputs = BSNetArchitecture.softmaxOutputs(scoreHeads: scoreHeads)
        layers = BSNetArchitecture.layers(scoreHeads: scoreHeads)
        let plan = try Self.inferShapes(layers)
        shapes = plan.shapes
        inputIndices = plan.inputs
        var index: [String: Int] = [:]
        for (i, l) in layers.enumerated() { index[l.name] = i }
        self.index = index

        func fetch(_ spec: TensorSpec) throws -> [Float] {
            guard available.contains(spec.name) else { throw BSNetError.missingTensor(name: spec.name) }
            let t = try weights.tensor(named: spec.name)
            guard t.shape == spec.shape else {
                throw BSNetError.tensorShapeMismatch(name: spec.name, expected: spec.shape, found: t.shape)
            }
            return t.values
        }
        var kernels: [Prepared] = []
        var scratchFloats = 0
        for (i, layer) in layers.enumerated() {
            let specs = Dictionary(uniqueKeysWithValues: plan.specs[i].map { ($0.name, $0) })
            func w(_ name: String) throws -> [Float] { try fetch(specs[name]!) }
            let ins = plan.inputs[i].map { plan.shapes[$0] }
            switch layer.op {
            case .input: kernels.append(.input)
            case let .batchNorm(bn, act):
                kernels.append(.affine(try Self.affine(bn, specs, fetch), act))
            case let .conv(c):
                let cin = ins.reduce(0) { $0 + $1.c }
                var kernel = try w(c.weights + "/kernel")
                var bias: [Float]? = c.bias ? try w(c.weights + "/bias") : nil
                if let bn = c.bn {
                    // Fold: act((x*W + b) * s + t) = act(x*(W*s) + (b*s + t)); exact since BN directly follows.
                    let a = try Self.affine(bn, specs, fetch)
                    for j in 0..<kernel.count { kernel[j] *= a.scale[j % c.filters] }
                    bias = (0..<c.filters).map { (bias?[$0] ?? 0) * a.scale[$0] + a.shift[$0] }
                }
                if options.winograd && c.kernel == 3 && c.stride == 1 && c.pad == 1 && cin >= 16 && c.filters >= 16 {
                    let k = WinogradConv3x3Kernel(weights: kernel, cin: cin, cout: c.filters, bias: bias, activation: c.activation,
                                                  tile: options.winogradTile)
                    scratchFloats = max(scratchFloats, k.scratchFloats(n: ins[0].n, h: ins[0].h, w: ins[0].w))
                    kernels.append(.winograd(k))
                } else {
                    let k = Conv2DKernel(geometry: ConvGeometry(kernel: c.kernel, stride: c.stride, pad: c.pad, cin: cin, cout: c.filters),
                                         weights: kernel, bias: bias, activation: c.activation)
                    scratchFloats = max(scratchFloats, k.scratchFloats(n: ins[0].n, h: ins[0].h, w: ins[0].w))
                    kernels.append(.conv(k))
                }
            case let .convTranspose(prefix, filters, bn, act):
                let kernel = try w(prefix + "/kernel")
                var scale: [Float]? = nil, bias: [Float]? = nil
                if let bn { let a = try Self.affine(bn, specs, fetch); scale = a.scale; bias = a.shift }
                // F(2x2,2x2) measured faster only from 128 output channels on (64x64x256 -> 128:
                // 0.058 s vs 0.062-0.066 s; 32x32x256 -> 256: 0.025 vs 0.035); with 64 or 32 its
                // transforms cost more than the multiplications saved (128x128x128 -> 64: 0.093 vs 0.072).
                if options.winograd && filters >= 128 {
                    let k = WinogradConvTranspose2DKernel(kerasKernel: kernel, cin: ins[0].c, cout: filters, outScale: scale, bias: bias, activation: act)
                    scratchFloats = max(scratchFloats, k.scratchFloats(n: ins[0].n, h: ins[0].h, w: ins[0].w))
                    kernels.append(.winogradTranspose(k))
                } else {
                    let k = ConvTranspose2DKernel(kerasKernel: kernel, cin: ins[0].c, cout: filters, outScale: scale, bias: bias, activation: act)
                    scratchFloats = max(scratchFloats, k.scratchFloats(n: ins[0].n, h: ins[0].h, w: ins[0].w))
                    kernels.append(.convTranspose(k))
                }
            case let .maxPool(k, s, p): kernels.append(.maxPool(k, s, p))
            case .add: kernels.append(.add)
            case let .dense(prefix, units, act):
                kernels.append(.dense(try w(prefix + "/kernel"), try w(prefix + "/bias"), units, act))
            case .stnSample: kernels.append(.stnSample)
            case .resize: kernels.append(.resize)
            case .multiplyMask: kernels.append(.multiplyMask)
            case .cropZones: kernels.append(.cropZones)
            case let .selectItem(r): kernels.append(.selectItem(r))
            case .globalAveragePool: kernels.append(.globalAveragePool)
            case .softmax: kernels.append(.softmax)
            case .mean: kernels.append(.mean)
            }
        }
        self.kernels = kernels
        // One pool for all parallel work; OpenBLAS itself runs single-threaded inside it (see run).
        pool = WorkerPool(size: self.threads)
        scratch = (0..<self.threads).map { _ in Scratch(capacity: scratchFloats) }

        // Lifetimes: a value lives from its layer to its last consumer; network outputs to the end.
        var last = Array(0..<layers.count)
        for (i, ins) in plan.inputs.enumerated() { for v in ins { last[v] = max(last[v], i) } }
        let outputs = [BSNetArchitecture.segmentationOutput, BSNetArchitecture.alignedOutput, BSNetArchitecture.thetaOutput]
            + softmaxOutputs
        for name in outputs { last[index[name]!] = layers.count }
        let arena = Arena(valueSizes: plan.shapes.map(\.count), first: Array(0..<layers.count), last: last)
        self.arena = arena
        values = plan.shapes.enumerated().map { arena.tensor(for: $0.offset, shape: $0.element) }
    }

    private static func affine(_ bn: BatchNormRef, _ specs: [String: TensorSpec], _ fetch: (TensorSpec) throws -> [Float]) throws -> ChannelAffine {
        ChannelAffine(gamma: bn.hasGamma ? try fetch(specs[bn.prefix + "/gamma"]!) : nil,
                      beta: try fetch(specs[bn.prefix + "/beta"]!),
                      mean: try fetch(specs[bn.prefix + "/moving_mean"]!),
                      variance: try fetch(specs[bn.prefix + "/moving_variance"]!),
                      epsilon: bn.epsilon)
    }

    /// Throws unless `input` is 512*512 finite values (the checks `run` does first).
    public static func validate(input: [Float]) throws {
        let n = BSNetArchitecture.inputSize
        guard input.count == n * n else { throw BSNetError.inputSizeMismatch(expected: n * n, found: input.count) }
        if let bad = input.firstIndex(where: { !$0.isFinite }) { throw BSNetError.nonFiniteInput(index: bad, value: input[bad]) }
    }

    /// Runs the network on one image: 512*512 values, row-major, expected in [0,1].
    public func run(_ input: [Float]) throws -> BSNetOutput {
        try run(input, capturing: []).output
    }

    /// As `run`, also returning copies of the named intermediate layer outputs.
    public func run(_ input: [Float], capturing names: Set<String>) throws -> (output: BSNetOutput, captured: [String: Tensor]) {
        try Self.validate(input: input)
        for name in names where index[name] == nil { throw BSNetError.unknownLayer(name) }
        // Our workers split each layer; every SGEMM inside them is single-threaded, so OpenBLAS's
        // own pool never spins against ours. (Process-wide setting, see docs/engine.md.)
        Blas.setThreads(1)

        var captured: [String: Tensor] = [:]
        var timings = StageTimings()
        var layerTimes: [(name: String, seconds: Double)] = []
        layerTimes.reserveCapacity(layers.count)
        defer { lastLayerTimings = layerTimes }
        for (i, layer) in layers.enumerated() {
            let start = Self.clock()
            execute(i, input: input)
            let out = values[i]
            let seconds = Double(Self.clock() - start) / 1e9
            timings[layer.stage] += seconds
            layerTimes.append((layer.name, seconds))
            if names.contains(layer.name) {
                let copy = Tensor(out.shape)
                copy.copy(from: out)
                captured[layer.name] = copy
            }
        }
        let output = outputs(stageTimings: timings)
        return (output, captured)
    }

    /// The network outputs as they are in the arena after a run.
    func outputs(stageTimings timings: StageTimings) -> BSNetOutput {
        func value(_ name: String) -> [Float] { values[index[name]!].toArray() }
        return BSNetOutput(segmentation: value(BSNetArchitecture.segmentationOutput),
                           alignedSegmentation: value(BSNetArchitecture.alignedOutput),
                           theta: value(BSNetArchitecture.thetaOutput),
                           regionProbabilities: softmaxOutputs.map(value),
                           stageTimings: timings)
    }

    /// Runs layer `i` on the arena values of its inputs, writing its own value (`input`: the image, for
    /// the input layer).
    func execute(_ i: Int, input: [Float]) {
        let out = values[i]
        let ins = inputIndices[i].map { values[$0] }
        switch kernels[i] {
        case .input:
            input.withUnsafeBufferPointer { out.data.update(from: $0.baseAddress!, count: input.count) }
        case let .affine(a, act): Pointwise.affine(ins[0], a, act, into: out)
        case let .conv(k): k.run(ins, into: out, pool: pool, scratch: scratch)
        case let .winograd(k): k.run(ins, into: out, pool: pool, scratch: scratch)
        case let .convTranspose(k): k.run(ins[0], into: out, pool: pool, scratch: scratch)
        case let .winogradTranspose(k): k.run(ins[0], into: out, pool: pool, scratch: scratch)
        case let .maxPool(k, s, p): Pooling.maxPool(ins[0], k: k, stride: s, pad: p, into: out)
        case .add: Pointwise.add(ins[0], ins[1], into: out)
        case let .dense(w, b, units, act): Dense.run(ins[0], weights: w, bias: b, units: units, activation: act, into: out)
        case .stnSample: Resample.stnSample(ins[0], theta: ins[1].toArray(), into: out)
        case .resize: Resample.resizeBilinear(ins[0], into: out)
        case .multiplyMask: Pointwise.multiplyMask(ins[0], ins[1], into: out)
        case .cropZones: Resample.cropZones(ins[0], into: out)
        case let .selectItem(r): out.copy(from: ins[0].item(r))
        case .globalAveragePool: Pooling.globalAverage(ins[0], into: out)
        case .softmax: Softmax.run(ins[0], into: out)
        case .mean: Pointwise.mean(ins, into: out)
        }
    }
}
