import Foundation

/// BS-Net on inputs that differ from one baseline input only inside a small box (an occluded
/// super-pixel), recomputing only what the difference can reach. The result is the full network's
/// output, not an approximation: only the floating-point summation order differs (tested against
/// `BSNet.run` to 1e-5).
///
/// Two exact facts make this pay (docs/explainability.md, "What is reused"):
/// - a conv, pool, transposed conv or pointwise layer whose inputs differ from the baseline only in a
///   box changes only in the box grown by its receptive field, so the encoder and the first U-Net++
///   blocks are recomputed on a crop and equal the baseline elsewhere;
/// - a conv over a concatenation is the sum of convs over its parts, so a U-Net++ merge whose upsampled
///   input changes everywhere but whose skip inputs change only locally costs one conv over the changed
///   channels, plus the baseline's partial sum of the other channels (computed once, shared by all
///   runs) corrected inside the box.
/// The deep encoder stage, the last U-Net++ column, the STN and the scoring head change everywhere
/// and are run in full.
/// @unchecked Sendable: `input`, `output` and `values` are immutable after init; `splits` is read and written only
/// under `lock`.
public final class OcclusionBaseline: @unchecked Sendable {
    public let input: [Float]
    public let output: BSNetOutput
    /// Baseline values of the encoder, decoder and STN layers, by layer index (nil for the head).
    let values: [Tensor?]
    private var splits: [SplitKey: Split] = [:]
    private let lock = NSLock()

    /// Runs `network` once on `input`, keeping every intermediate before the head (the head's inputs are
    /// warped by the STN, so they change everywhere for any occlusion).
    public init(network: BSNet, input: [Float]) throws {
        let keep = Set(network.layers.filter { $0.stage != .head }.map(\.name))
        let (output, captured) = try network.run(input, capturing: keep)
        self.input = input
        self.output = output
        values = network.layers.map { captured[$0.name] }
    }

    /// Bytes of baseline intermediates held (plus the partial sums computed so far).
    public var bytes: Int {
        lock.lock(); defer { lock.unlock() }
        return (values.compactMap { $0?.count }.reduce(0, +) + splits.values.map(\.partial.count).reduce(0, +)) * 4
    }

    /// A split conv's kernels and the baseline partial sum of its local parts, made by the first runner
    /// that needs them and shared by all (the kernels are read-only, each run has its own scratch).
    func split(_ key: SplitKey, make: () -> Split) -> Split {
        lock.lock(); defer { lock.unlock() }
        if let s = splits[key] { return s }
        let s = make()
        splits[key] = s
        return s
    }
}

struct SplitKey: Hashable { var layer: Int; var localParts: [Int] }

/// A U-Net++ merge split by linearity: the conv over the channels that changed everywhere (no bias, no
/// activation), the conv over the locally changed channels (bias, no activation), and the latter on the
/// baseline's inputs.
struct Split {
    var changed: WinogradConv3x3Kernel
    var local: WinogradConv3x3Kernel
    var partial: Tensor
}

/// Half-open spatial box [y0, y1) x [x0, x1) in one tensor's pixel coordinates.
struct Box: Equatable, CustomStringConvertible {
    var y0: Int, y1: Int, x0: Int, x1: Int
    static let empty = Box(y0: 0, y1: 0, x0: 0, x1: 0)
    var isEmpty: Bool { y1 <= y0 || x1 <= x0 }
    var height: Int { max(0, y1 - y0) }
    var width: Int { max(0, x1 - x0) }
    var area: Int { height * width }
    var description: String { "[\(y0),\(y1))x[\(x0),\(x1))" }
    func union(_ o: Box) -> Box {
        if isEmpty { return o }
        if o.isEmpty { return self }
        return Box(y0: min(y0, o.y0), y1: max(y1, o.y1), x0: min(x0, o.x0), x1: max(x1, o.x1))
    }
    func clamped(h: Int, w: Int) -> Box {
        let b = Box(y0: max(0, y0), y1: min(h, y1), x0: max(0, x0), x1: min(w, x1))
        return b.isEmpty ? .empty : b
    }
    func grown(_ d: Int) -> Box { Box(y0: y0 - d, y1: y1 + d, x0: x0 - d, x1: x1 + d) }

    /// Outputs of a k x k / stride s / pad p window op whose input changed in `self`.
    func throughWindow(k: Int, s: Int, p: Int, outH: Int, outW: Int) -> Box {
        if isEmpty { return .empty }
        func range(_ a: Int, _ b: Int) -> (Int, Int) { (ceilDiv(a + p - k + 1, s), floorDiv(b - 1 + p, s) + 1) }
        let (ya, yb) = range(y0, y1), (xa, xb) = range(x0, x1)
        return Box(y0: ya, y1: yb, x0: xa, x1: xb).clamped(h: outH, w: outW)
    }
    /// Inputs a k x k / stride s / pad p window op reads for the outputs in `self` (may leave the image).
    func windowSource(k: Int, s: Int, p: Int) -> Box {
        Box(y0: y0 * s - p, y1: (y1 - 1) * s - p + k, x0: x0 * s - p, x1: (x1 - 1) * s - p + k)
    }
    /// Outputs of the 4x4 / 2 'same' transposed conv whose input changed in `self`.
    func throughTransposed(outH: Int, outW: Int) -> Box {
        isEmpty ? .empty : Box(y0: 2 * y0 - 1, y1: 2 * y1 + 1, x0: 2 * x0 - 1, x1: 2 * x1 + 1).clamped(h: outH, w: outW)
    }
    /// Inputs the transposed conv reads for the outputs in `self`: output o uses inputs
    /// floor((o-1)/2) ... floor((o+2)/2).
    func transposedSource(inH: Int, inW: Int) -> Box {
        Box(y0: floorDiv(y0 - 1, 2), y1: floorDiv(y1 + 1, 2) + 1, x0: floorDiv(x0 - 1, 2), x1: floorDiv(x1 + 1, 2) + 1)
            .clamped(h: inH, w: inW)
    }
}

@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

/// One network's incremental runs against a shared `OcclusionBaseline`. Uses the network's arena for
/// everything it computes in full, so a network serves one runner (or plain runs) at a time.
public final class OcclusionRunner {
    let net: BSNet
    public let baseline: OcclusionBaseline
    /// A value computed on a crop whose box covers more than this fraction of the tensor is computed
    /// in full instead (the crop copies then cost more than they save).
    public static let localLimit = 0.75

    /// Per layer: how it was computed in the last run ("local", "split" or "full"), for tests and profiling.
    public private(set) var lastModes: [String] = []
    /// Per layer: wall-clock seconds in the last run (profiling).
    public private(set) var lastLayerSeconds: [Double] = []
    /// Per layer: the fraction of its output area recomputed in the last run (1 when full).
    public private(set) var lastAreaFractions: [Double] = []

    private enum State {
        /// The arena value holds the full tensor.
        case full
        /// Equal to the baseline outside `box`; `patch` holds the box (nil when the box is empty).
        case local(Box, Tensor?)
    }
    private var state: [State] = []
    private var pad0: [Int: Conv2DKernel] = [:]

    public init(network: BSNet, baseline: OcclusionBaseline) {
        precondition(baseline.values.count == network.layers.count, "baseline from another architecture")
        net = network
        self.baseline = baseline
    }

    /// Region probabilities (6 x 4) of the network on `input`, which should differ from the baseline
    /// input in a small area (any input is scored correctly; a large difference just saves nothing).
    public func run(_ input: [Float]) throws -> [[Float]] {
        try BSNet.validate(input: input)
        Blas.setThreads(1)
        let n = BSNetArchitecture.inputSize
        var box = Box.empty
        for y in 0..<n {
            for x in 0..<n where input[y * n + x] != baseline.input[y * n + x] {
                box = box.union(Box(y0: y, y1: y + 1, x0: x, x1: x + 1))
            }
        }
        if box.isEmpty { return baseline.output.regionProbabilities }
        state = Array(repeating: .full, count: net.layers.count)
        lastModes = Array(repeating: "full", count: net.layers.count)
        lastAreaFractions = Array(repeating: 1, count: net.layers.count)
        lastLayerSeconds = Array(repeating: 0, count: net.layers.count)
        for i in 0..<net.layers.count {
            let start = BSNet.clock()
            step(i, input: input, inputBox: box)
            lastLayerSeconds[i] = Double(BSNet.clock() - start) / 1e9
        }
        return net.softmaxOutputs.map { net.values[net.index[$0]!].toArray() }
    }

    /// The segmentation map of the last run (the arena's value; for tests).
    public var lastSegmentation: [Float] { net.values[net.index[BSNetArchitecture.segmentationOutput]!].toArray() }

    private func step(_ i: Int, input: [Float], inputBox: Box) {
        let ins = net.inputIndices[i]
        let shape = net.shapes[i]
        func worthy(_ b: Box) -> Bool { Double(b.area) <= Self.localLimit * Double(shape.h * shape.w) }
        func setLocal(_ b: Box, _ p: Tensor?) {
            state[i] = .local(b, p); lastModes[i] = "local"; lastAreaFractions[i] = Double(b.area) / Double(shape.h * shape.w)
        }
        let localBoxes = ins.map { v -> Box? in if case let .local(b, _) = state[v] { return b } else { return nil } }
        // Only layers with a baseline can be local (their value outside the box comes from it).
        let allLocal = !ins.isEmpty && localBoxes.allSatisfy { $0 != nil } && baseline.values[i] != nil
        let union = localBoxes.reduce(Box.empty) { $0.union($1 ?? .empty) }

        switch net.kernels[i] {
        case .input where worthy(inputBox):
            let p = Tensor(Shape4(1, inputBox.height, inputBox.width, 1))
            for y in 0..<inputBox.height {
                for x in 0..<inputBox.width { p.data[y * inputBox.width + x] = input[(inputBox.y0 + y) * shape.w + inputBox.x0 + x] }
            }
            setLocal(inputBox, p)
            return
        case let .affine(a, act) where allLocal && worthy(union):
            let p = Tensor(uninitialized: Shape4(1, union.height, union.width, shape.c))
            Pointwise.affine(crop(ins[0], union), a, act, into: p)
            setLocal(union, p)
            return
        case .add where allLocal && worthy(union):
            let p = Tensor(uninitialized: Shape4(1, union.height, union.width, shape.c))
            Pointwise.add(crop(ins[0], union), crop(ins[1], union), into: p)
            setLocal(union, p)
            return
        case let .maxPool(k, s, pad) where allLocal:
            let ob = union.throughWindow(k: k, s: s, p: pad, outH: shape.h, outW: shape.w)
            guard worthy(ob) else { break }
            let p = Tensor(uninitialized: Shape4(1, ob.height, ob.width, shape.c))
            Pooling.maxPool(crop(ins[0], ob.windowSource(k: k, s: s, p: pad)), k: k, stride: s, pad: 0, into: p)
            setLocal(ob, p)
            return
        case let .conv(k) where allLocal:
            let g = k.geometry
            let ob = union.throughWindow(k: g.kernel, s: g.stride, p: g.pad, outH: shape.h, outW: shape.w)
            guard worthy(ob) else { break }
            let kernel = pad0[i] ?? {
                let z = Conv2DKernel(geometry: ConvGeometry(kernel: g.kernel, stride: g.stride, pad: 0, cin: g.cin, cout: g.cout),
                                     weights: k.weights, bias: k.bias, activation: k.activation)
                pad0[i] = z
                return z
            }()
            let src = ob.windowSource(k: g.kernel, s: g.stride, p: g.pad)
            let p = Tensor(uninitialized: Shape4(1, ob.height, ob.width, g.cout))
            kernel.run(ins.map { crop($0, src) }, into: p, pool: net.pool, scratch: net.scratch)
            setLocal(ob, p)
            return
        case let .winograd(k) where allLocal:
            let ob = union.throughWindow(k: 3, s: 1, p: 1, outH: shape.h, outW: shape.w)
            guard worthy(ob) else { break }
            setLocal(ob, winogradPatch(k, ins, ob))
            return
        case let .winograd(k) where ins.count > 1 && localBoxes.contains(where: { $0 != nil }):
            split(i, k, localBoxes, union: union)
            return
        case .convTranspose, .winogradTranspose:
            guard allLocal, let run = transposedKernel(net.kernels[i]) else { break }
            let ob = union.throughTransposed(outH: shape.h, outW: shape.w)
            guard worthy(ob) else { break }
            setLocal(ob, transposedPatch(ins[0], ob, cout: shape.c, run))
            return
        default:
            break
        }
        for v in ins { materialize(v) }
        net.execute(i, input: input)
    }

    /// Winograd 3x3 conv of the inputs' crop around `ob` (one pixel of real neighbours or image-border
    /// zeros on each side), keeping the interior, which is exact; the crop's own border is not.
    private func winogradPatch(_ k: WinogradConv3x3Kernel, _ ins: [Int], _ ob: Box) -> Tensor {
        let src = ob.grown(1)
        let tmp = Tensor(uninitialized: Shape4(1, src.height, src.width, k.cout))
        k.run(ins.map { crop($0, src) }, into: tmp, pool: net.pool, scratch: net.scratch)
        return interior(tmp, y: 1, x: 1, h: ob.height, w: ob.width)
    }

    /// The run function of either transposed-conv kernel.
    private func transposedKernel(_ p: BSNet.Prepared) -> ((Tensor, Tensor) -> Void)? {
        switch p {
        case let .convTranspose(k): return { k.run($0, into: $1, pool: self.net.pool, scratch: self.net.scratch) }
        case let .winogradTranspose(k): return { k.run($0, into: $1, pool: self.net.pool, scratch: self.net.scratch) }
        default: return nil
        }
    }

    private func transposedPatch(_ v: Int, _ ob: Box, cout: Int, _ run: (Tensor, Tensor) -> Void) -> Tensor {
        let s = net.shapes[v]
        let src = ob.transposedSource(inH: s.h, inW: s.w)
        let tmp = Tensor(uninitialized: Shape4(1, 2 * src.height, 2 * src.width, cout))
        run(crop(v, src), tmp)
        return interior(tmp, y: ob.y0 - 2 * src.y0, x: ob.x0 - 2 * src.x0, h: ob.height, w: ob.width)
    }

    /// Conv over [changed parts..., local parts...] = conv(changed, full) + conv(local parts): the second
    /// term is the baseline's (shared) outside the local parts' dirty box and recomputed inside it.
    private func split(_ i: Int, _ k: WinogradConv3x3Kernel, _ localBoxes: [Box?], union: Box) {
        let ins = net.inputIndices[i]
        let shape = net.shapes[i]
        let localParts = ins.indices.filter { localBoxes[$0] != nil }
        let changedParts = ins.indices.filter { localBoxes[$0] == nil }
        let key = SplitKey(layer: i, localParts: localParts)
        let sp = baseline.split(key) {
            var offsets: [Int] = [], c0 = 0
            for v in ins { offsets.append(c0); c0 += net.shapes[v].c }
            func channels(_ parts: [Int]) -> [Int] { parts.flatMap { offsets[$0]..<(offsets[$0] + net.shapes[ins[$0]].c) } }
            let local = k.selecting(inputChannels: channels(localParts), bias: true, activation: .none)
            let partial = Tensor(uninitialized: shape)
            local.run(localParts.map { baseline.values[ins[$0]]! }, into: partial, pool: net.pool, scratch: net.scratch)
            return Split(changed: k.selecting(inputChannels: channels(changedParts), bias: false, activation: .none),
                         local: local, partial: partial)
        }
        let partial = sp.partial
        for p in changedParts { materialize(ins[p]) }
        let out = net.values[i]
        sp.changed.run(changedParts.map { net.values[ins[$0]] }, into: out, pool: net.pool, scratch: net.scratch)
        let ob = union.throughWindow(k: 3, s: 1, p: 1, outH: shape.h, outW: shape.w)
        let patch = ob.isEmpty ? nil : winogradPatch(sp.local, localParts.map { ins[$0] }, ob)
        // out = act(changed + (inside ob ? patch : partial)).
        let c = shape.c, act = k.activation
        for y in 0..<shape.h {
            let row = out.data + y * shape.w * c
            func addRun(_ x0: Int, _ x1: Int, _ src: UnsafeMutablePointer<Float>) {
                let dst = row + x0 * c, n = (x1 - x0) * c
                if act == .relu {
                    for j in 0..<n { let v = dst[j] + src[j]; dst[j] = v > 0 ? v : 0 }
                } else {
                    for j in 0..<n { dst[j] = act.apply(dst[j] + src[j]) }
                }
            }
            let base = partial.data + y * shape.w * c
            if let patch, y >= ob.y0 && y < ob.y1 {
                addRun(0, ob.x0, base)
                addRun(ob.x0, ob.x1, patch.data + (y - ob.y0) * ob.width * c)
                addRun(ob.x1, shape.w, base + ob.x1 * c)
            } else {
                addRun(0, shape.w, base)
            }
        }
        state[i] = .full
        lastModes[i] = "split"
    }

    private func interior(_ t: Tensor, y: Int, x: Int, h: Int, w: Int) -> Tensor {
        let c = t.shape.c
        let r = Tensor(uninitialized: Shape4(1, h, w, c))
        for row in 0..<h {
            (r.data + row * w * c).update(from: t.data + ((y + row) * t.shape.w + x) * c, count: w * c)
        }
        return r
    }

    /// The value of layer `v` over `region` (which may leave the tensor: zeros there).
    private func crop(_ v: Int, _ region: Box) -> Tensor {
        let s = net.shapes[v], c = s.c
        let inside = region.clamped(h: s.h, w: s.w)
        // Zero-filled only where the region leaves the tensor (the rest is overwritten below).
        let t = inside == region ? Tensor(uninitialized: Shape4(1, region.height, region.width, c))
                                 : Tensor(Shape4(1, region.height, region.width, c))
        if inside.isEmpty { return t }
        func copy(_ y: Int, _ x0: Int, _ x1: Int, from src: UnsafeMutablePointer<Float>, srcY: Int, srcX0: Int, srcW: Int) {
            guard x1 > x0 else { return }
            (t.data + ((y - region.y0) * region.width + (x0 - region.x0)) * c)
                .update(from: src + (srcY * srcW + srcX0) * c, count: (x1 - x0) * c)
        }
        switch state[v] {
        case .full:
            for y in inside.y0..<inside.y1 { copy(y, inside.x0, inside.x1, from: net.values[v].data, srcY: y, srcX0: inside.x0, srcW: s.w) }
        case let .local(b, patch):
            guard let baseTensor = baseline.values[v] else { fatalError("no baseline for \(net.layers[v].name) (layer \(v))") }
            let base = baseTensor.data
            for y in inside.y0..<inside.y1 {
                guard let patch, y >= b.y0 && y < b.y1 else {
                    copy(y, inside.x0, inside.x1, from: base, srcY: y, srcX0: inside.x0, srcW: s.w)
                    continue
                }
                let p0 = max(inside.x0, b.x0), p1 = min(inside.x1, b.x1)
                if p1 <= p0 {
                    copy(y, inside.x0, inside.x1, from: base, srcY: y, srcX0: inside.x0, srcW: s.w)
                } else {
                    copy(y, inside.x0, p0, from: base, srcY: y, srcX0: inside.x0, srcW: s.w)
                    copy(y, p0, p1, from: patch.data, srcY: y - b.y0, srcX0: p0 - b.x0, srcW: b.width)
                    copy(y, p1, inside.x1, from: base, srcY: y, srcX0: p1, srcW: s.w)
                }
            }
        }
        return t
    }

    /// Writes a local value in full into its arena slot (baseline, then the patch).
    private func materialize(_ v: Int) {
        guard case let .local(b, patch) = state[v] else { return }
        let out = net.values[v], s = net.shapes[v], c = s.c
        out.copy(from: baseline.values[v]!)
        if let patch {
            for y in b.y0..<b.y1 {
                (out.data + (y * s.w + b.x0) * c).update(from: patch.data + (y - b.y0) * b.width * c, count: b.width * c)
            }
        }
        state[v] = .full
    }
}
