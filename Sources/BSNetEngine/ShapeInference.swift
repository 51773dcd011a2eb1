/// Shape inference over the architecture description: output shape of every layer and the Keras
/// weight tensors (name + shape) each layer needs, for a (1,512,512,1) input.
extension BSNet {
    struct Plan {
        var shapes: [Shape4]
        var inputs: [[Int]]
        var specs: [[TensorSpec]]
    }

    static func bnSpecs(_ bn: BatchNormRef, _ c: Int) -> [TensorSpec] {
        (bn.hasGamma ? ["gamma"] : []) .appending(contentsOf: ["beta", "moving_mean", "moving_variance"])
            .map { TensorSpec(name: bn.prefix + "/" + $0, shape: [c]) }
    }

    static func inferShapes(_ layers: [LayerSpec]) throws -> Plan {
        var plan = Plan(shapes: [], inputs: [], specs: [])
        var index: [String: Int] = [:]
        let n = BSNetArchitecture.inputSize
        for layer in layers {
            let ins = try layer.inputs.map { name -> Int in
                guard let i = index[name] else { throw BSNetError.unknownLayer(name) }
                return i
            }
            let s = ins.map { plan.shapes[$0] }
            var specs: [TensorSpec] = []
            let out: Shape4
            switch layer.op {
            case .input: out = Shape4(1, n, n, 1)
            case let .batchNorm(bn, _):
                out = s[0]; specs = bnSpecs(bn, s[0].c)
            case let .conv(c):
                let cin = s.reduce(0) { $0 + $1.c }
                precondition(s.allSatisfy { $0.n == s[0].n && $0.h == s[0].h && $0.w == s[0].w }, "\(layer.name): concat of unequal shapes")
                let g = ConvGeometry(kernel: c.kernel, stride: c.stride, pad: c.pad, cin: cin, cout: c.filters)
                out = Shape4(s[0].n, g.outSize(s[0].h), g.outSize(s[0].w), c.filters)
                specs = [TensorSpec(name: c.weights + "/kernel", shape: [c.kernel, c.kernel, cin, c.filters])]
                if c.bias { specs.append(TensorSpec(name: c.weights + "/bias", shape: [c.filters])) }
                if let bn = c.bn { specs += bnSpecs(bn, c.filters) }
            case let .convTranspose(w, f, bn, _):
                out = Shape4(s[0].n, 2 * s[0].h, 2 * s[0].w, f)
                specs = [TensorSpec(name: w + "/kernel", shape: [4, 4, f, s[0].c])]
                if let bn { specs += bnSpecs(bn, f) }
            case let .maxPool(k, st, p): out = Pooling.outputShape(s[0], k: k, stride: st, pad: p)
            case .add:
                precondition(s[0] == s[1], "\(layer.name): add of unequal shapes")
                out = s[0]
            case let .dense(w, units, _):
                out = Shape4(s[0].n, 1, 1, units)
                specs = [TensorSpec(name: w + "/kernel", shape: [s[0].h * s[0].w * s[0].c, units]),
                         TensorSpec(name: w + "/bias", shape: [units])]
            case .stnSample: out = s[0]
            case let .resize(size): out = Shape4(s[0].n, size, size, s[0].c)
            case .multiplyMask: out = s[0]
            case .cropZones: out = Shape4(6 * s[0].n, s[0].h, s[0].w, s[0].c)
            case .selectItem: out = Shape4(1, s[0].h, s[0].w, s[0].c)
            case .globalAveragePool: out = Shape4(s[0].n, 1, 1, s[0].c)
            case .softmax: out = s[0]
            case .mean:
                precondition(s.allSatisfy { $0 == s[0] }, "\(layer.name): mean of unequal shapes")
                out = s[0]
            }
            index[layer.name] = plan.shapes.count
            plan.shapes.append(out)
            plan.inputs.append(ins)
            plan.specs.append(specs)
        }
        return plan
    }
}

private extension Array {
    func appending(contentsOf other: [Element]) -> [Element] { self + other }
}
