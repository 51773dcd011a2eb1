import Foundation

/// Pointwise activations used by BS-Net. Keras: swish(x) = x * sigmoid(x).
public enum Activation: String, Sendable {
    case none, relu, sigmoid, swish

    @inline(__always) public func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .relu: return x > 0 ? x : 0
        case .sigmoid: return 1 / (1 + expf(-x))
        case .swish: return x / (1 + expf(-x))
        }
    }
}

/// Epilogue shared by the fast kernels: `rows` rows of `cols` channels at row stride `ld`,
/// add a per-channel bias (optional) and apply the activation in place, while the block is in cache.
@inline(__always)
func biasActivate(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int,
                  bias: UnsafePointer<Float>?, activation: Activation) {
    if bias == nil && activation == .none { return }
    for r in 0..<rows {
        let row = p + r * ld
        if let bias {
            switch activation {
            case .none: for j in 0..<cols { row[j] += bias[j] }
            case .relu: for j in 0..<cols { let v = row[j] + bias[j]; row[j] = v > 0 ? v : 0 }
            case .sigmoid: for j in 0..<cols { row[j] = 1 / (1 + expf(-(row[j] + bias[j]))) }
            case .swish: for j in 0..<cols { let v = row[j] + bias[j]; row[j] = v / (1 + expf(-v)) }
            }
        } else {
            switch activation {
            case .none: break
            case .relu: for j in 0..<cols { let v = row[j]; row[j] = v > 0 ? v : 0 }
            case .sigmoid: for j in 0..<cols { row[j] = 1 / (1 + expf(-row[j])) }
            case .swish: for j in 0..<cols { let v = row[j]; row[j] = v / (1 + expf(-v)) }
            }
        }
    }
}
