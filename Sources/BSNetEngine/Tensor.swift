/// NHWC float32 tensors.
///
/// A `Tensor` is a shape plus a pointer. It either owns its memory (allocated zeroed, freed on deinit)
/// or is a view into memory owned by something else (an `Arena` buffer, another tensor), which it keeps
/// alive through `owner`. The network never allocates per run: every intermediate is a view into a
/// buffer planned once when the network is built (see `Arena`).
public struct Shape4: Hashable, Sendable, CustomStringConvertible {
    public var n: Int, h: Int, w: Int, c: Int
    public init(_ n: Int, _ h: Int, _ w: Int, _ c: Int) { self.n = n; self.h = h; self.w = w; self.c = c }
    public var count: Int { n * h * w * c }
    public var dims: [Int] { [n, h, w, c] }
    public var description: String { "(\(n),\(h),\(w),\(c))" }
}

public final class Tensor {
    public let shape: Shape4
    public let data: UnsafeMutablePointer<Float>
    private let owned: Bool
    private let owner: AnyObject?

    /// A new zero-filled tensor that owns its memory.
    public init(_ shape: Shape4) {
        self.shape = shape
        data = UnsafeMutablePointer<Float>.allocate(capacity: max(shape.count, 1))
        data.initialize(repeating: 0, count: max(shape.count, 1))
        owned = true
        owner = nil
    }

    /// A new tensor that owns its memory, left uninitialised: for callers that write every element.
    init(uninitialized shape: Shape4) {
        self.shape = shape
        data = UnsafeMutablePointer<Float>.allocate(capacity: max(shape.count, 1))
        owned = true
        owner = nil
    }

    public convenience init(_ shape: Shape4, values: [Float]) {
        precondition(values.count == shape.count, "shape \(shape) needs \(shape.count) values, got \(values.count)")
        self.init(shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A view of `shape.count` floats at `pointer`, kept valid by `owner`.
    public init(view shape: Shape4, at pointer: UnsafeMutablePointer<Float>, owner: AnyObject?) {
        self.shape = shape
        data = pointer
        owned = false
        self.owner = owner
    }

    deinit { if owned { data.deallocate() } }

    public var count: Int { shape.count }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }
    public func toArray() -> [Float] { Array(buffer) }

    @inline(__always) public func index(_ b: Int, _ y: Int, _ x: Int, _ ch: Int) -> Int {
        ((b * shape.h + y) * shape.w + x) * shape.c + ch
    }
    public subscript(_ b: Int, _ y: Int, _ x: Int, _ ch: Int) -> Float {
        get { data[index(b, y, x, ch)] }
        set { data[index(b, y, x, ch)] = newValue }
    }

    /// Batch item `b` as a (1,h,w,c) view (no copy).
    public func item(_ b: Int) -> Tensor {
        let one = Shape4(1, shape.h, shape.w, shape.c)
        return Tensor(view: one, at: data + b * one.count, owner: self)
    }

    public func copy(from other: Tensor) {
        precondition(other.count == count)
        data.update(from: other.data, count: count)
    }
}

/// Memory planned once per network: a set of buffers, each reused by intermediates whose lifetimes do
/// not overlap. `Arena.plan` assigns every value a buffer from its [first, last] use interval
/// (greedy, best fit by size); the buffers are allocated once and reused by every run.
final class Arena {
    private(set) var buffers: [UnsafeMutablePointer<Float>] = []
    private(set) var sizes: [Int] = []
    /// Buffer index of each value.
    private(set) var assignment: [Int] = []

    /// `sizes[v]` floats for value v, live from `first[v]` to `last[v]` (node indices, inclusive).
    init(valueSizes: [Int], first: [Int], last: [Int]) {
        var freeAt: [Int] = []          // node index after which the buffer is free again
        assignment = Array(repeating: -1, count: valueSizes.count)
        let order = valueSizes.indices.sorted { first[$0] < first[$1] }
        for v in order {
            // Smallest free buffer that fits; otherwise grow the largest free one; otherwise a new buffer.
            let free = freeAt.indices.filter { freeAt[$0] < first[v] }
            let fitting = free.filter { sizes[$0] >= valueSizes[v] }
            let best = fitting.min { sizes[$0] < sizes[$1] } ?? free.max { sizes[$0] < sizes[$1] } ?? -1
            if best < 0 {
                sizes.append(valueSizes[v]); freeAt.append(last[v]); assignment[v] = sizes.count - 1
            } else {
                sizes[best] = max(sizes[best], valueSizes[v]); freeAt[best] = last[v]; assignment[v] = best
            }
        }
        buffers = sizes.map { size in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(size, 1))
            p.initialize(repeating: 0, count: max(size, 1))
            return p
        }
    }

    deinit { for b in buffers { b.deallocate() } }

    var totalFloats: Int { sizes.reduce(0, +) }

    func tensor(for value: Int, shape: Shape4) -> Tensor {
        Tensor(view: shape, at: buffers[assignment[value]], owner: self)
    }
}

/// Reusable scratch memory (im2col blocks, GEMM staging), grown on demand and never shrunk.
public final class Scratch {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int
    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
    }
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = .allocate(capacity: count)
        }
        return pointer
    }
    deinit { pointer.deallocate() }
}
