/// Per-layer timings of the last run grouped by what the layer computes, for `brixia bench --profile`
/// and docs/performance.md: where the time goes decides which kernel to work on.
public struct LayerTiming: Sendable {
    public var name: String
    /// The kind of work and the kernel that does it, e.g. "3x3 conv, Winograd F(4x4,3x3)".
    public var kind: String
    /// Output height and width, and the input -> output channels where the layer is a conv.
    public var detail: String
    public var seconds: Double
}

extension BSNet {
    /// The last run's layers with their kind, in execution order.
    public var lastLayerProfile: [LayerTiming] {
        lastLayerTimings.map { entry in
            let i = index[entry.name]!
            let s = shapes[i]
            let (kind, channels) = Self.describe(kernels[i])
            return LayerTiming(name: entry.name, kind: kind, detail: "\(s.h)x\(s.w)" + (channels.map { ", \($0)" } ?? ""),
                               seconds: entry.seconds)
        }
    }

    static func describe(_ kernel: Prepared) -> (kind: String, channels: String?) {
        switch kernel {
        case let .conv(k):
            let g = k.geometry
            let what = g.cout == 1 ? "conv to 1 channel, direct" : k.isPointwise ? "1x1 conv, GEMM" : "\(g.kernel)x\(g.kernel)/\(g.stride) conv, im2col + GEMM"
            return (what, "\(g.cin) -> \(g.cout)")
        case let .winograd(k): return ("3x3 conv, Winograd F(\(k.tile)x\(k.tile),3x3)", "\(k.cin) -> \(k.cout)")
        case let .convTranspose(k): return ("transposed conv, sub-pixel GEMMs", "\(k.cin) -> \(k.cout)")
        case let .winogradTranspose(k): return ("transposed conv, sub-pixel Winograd F(2x2,2x2)", "\(k.cin) -> \(k.cout)")
        case .dense: return ("dense", nil)
        default: return ("not a conv (pooling, resampling, BN, adds, STN, softmax)", nil)
        }
    }
}
