import Foundation

/// SLIC super-pixels (Achanta et al. 2012) as scikit-image's `slic` computes them for an 8-bit grayscale
/// image given as RGB (what the BS-Net hackathon code did): convert to CIE L*a*b*, Gaussian pre-smoothing,
/// regular-grid seeds, 10 k-means iterations over a 2S window with distance (d_lab/m)^2 + (d_xy/S)^2,
/// then connectivity enforcement (small pieces merged into a neighbour). Deterministic; no Python.
public struct SlicParameters: Sendable, Equatable {
    public var segments: Int = 180
    public var compactness: Double = 10
    public var sigma: Double = 1
    public var maxIterations: Int = 10
    public var minSizeFactor: Double = 0.5
    public var maxSizeFactor: Double = 3
    public init(segments: Int = 180, compactness: Double = 10, sigma: Double = 1, maxIterations: Int = 10) {
        self.segments = segments; self.compactness = compactness; self.sigma = sigma; self.maxIterations = maxIterations
    }
}

/// A labelling of a width x height image: labels 1...count, 0 = not part of any super-pixel.
public struct SuperPixels: Sendable, Equatable {
    public let width: Int, height: Int
    public var labels: [Int32]
    public var count: Int

    public init(width: Int, height: Int, labels: [Int32], count: Int) {
        self.width = width; self.height = height; self.labels = labels; self.count = count
    }

    /// Pixel indices of each label 1...count (index 0 unused).
    public func members() -> [[Int]] {
        var m = [[Int]](repeating: [], count: count + 1)
        for (i, l) in labels.enumerated() where l > 0 { m[Int(l)].append(i) }
        return m
    }

    /// True where a pixel's right or lower neighbour has another label (the 1-px boundary).
    public func boundaries() -> [Bool] {
        var b = [Bool](repeating: false, count: labels.count)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x, l = labels[i]
                if (x + 1 < width && labels[i + 1] != l) || (y + 1 < height && labels[i + width] != l) { b[i] = true }
            }
        }
        return b
    }

    /// Keeps only the parts of the super-pixels inside `mask`, relabelled 1...n in order of first appearance;
    /// super-pixels without any mask pixel disappear.
    public func restricted(to mask: [Bool]) -> SuperPixels {
        precondition(mask.count == labels.count)
        var map = [Int32](repeating: 0, count: count + 1)
        var next: Int32 = 0
        var out = [Int32](repeating: 0, count: labels.count)
        for i in 0..<labels.count where mask[i] && labels[i] > 0 {
            let l = Int(labels[i])
            if map[l] == 0 { next += 1; map[l] = next }
            out[i] = map[l]
        }
        return SuperPixels(width: width, height: height, labels: out, count: Int(next))
    }
}

public enum Slic {
    /// Super-pixels of an image with values in [0,1] (quantised to 8 bits first, as the reference code
    /// saved the image as 8-bit RGB).
    public static func segment(_ image: [Float], width: Int, height: Int, parameters p: SlicParameters = .init()) -> SuperPixels {
        precondition(image.count == width * height && width > 0 && height > 0)
        let gray8 = image.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
        return segment(gray8: gray8, width: width, height: height, parameters: p)
    }

    public static func segment(gray8: [UInt8], width: Int, height: Int, parameters p: SlicParameters = .init()) -> SuperPixels {
        precondition(gray8.count == width * height && width > 0 && height > 0)
        let n = width * height
        // 1. Min-max rescale to [0,1] (skimage does this so compactness is scale-free), CIE L*a*b* of the
        //    gray RGB pixel (rgb2lab, D65), then Gaussian smoothing per channel.
        let lo = Double(gray8.min()!) / 255, hi = Double(gray8.max()!) / 255
        let lut = (0..<256).map { v -> (Double, Double, Double) in
            let c = Double(v) / 255 - lo
            return labOfGray(hi > lo ? c / (hi - lo) : c)
        }
        var channels = [[Double]](repeating: [Double](repeating: 0, count: n), count: 3)
        for i in 0..<n { let v = lut[Int(gray8[i])]; channels[0][i] = v.0; channels[1][i] = v.1; channels[2][i] = v.2 }
        if p.sigma > 0 { for c in 0..<3 { channels[c] = gaussian(channels[c], width: width, height: height, sigma: p.sigma) } }
        let ratio = 1 / p.compactness
        var feat = [Double](repeating: 0, count: n * 3)
        for i in 0..<n { for c in 0..<3 { feat[i * 3 + c] = channels[c][i] * ratio } }

        // 2. Seeds on skimage's regular grid (util.regular_grid over the (1,H,W) volume).
        let (ys, xs, stepY, stepX) = regularGrid(height: height, width: width, points: p.segments)
        var seg: [[Double]] = []     // [y, x, f0, f1, f2]
        for y in ys { for x in xs { seg.append([Double(y), Double(x), 0, 0, 0]) } }
        let k = seg.count
        let step = Double(max(1, stepY, stepX))
        let spatialWeight = 1 / (step * step)
        // skimage's search window is +-2 steps of the grid recomputed for the actual seed count (39 px for
        // 169 seeds on 512x512), not of the seeding grid (38 px): reproduced as is.
        let window = regularGrid(height: height, width: width, points: k)
        let winY = Double(2 * window.stepY), winX = Double(2 * window.stepX)

        // 3. Assignment / update iterations.
        var nearest = [Int](repeating: 0, count: n)
        var distance = [Double](repeating: .greatestFiniteMagnitude, count: n)
        for _ in 0..<p.maxIterations {
            var changed = false
            for i in 0..<n { distance[i] = .greatestFiniteMagnitude }
            for s in 0..<k {
                let cy = seg[s][0], cx = seg[s][1]
                guard cy.isFinite, cx.isFinite else { continue }   // an emptied segment (NaN centre) claims nothing
                let y0 = Int(max(cy - winY, 0)), y1 = Int(min(cy + winY + 1, Double(height)))
                let x0 = Int(max(cx - winX, 0)), x1 = Int(min(cx + winX + 1, Double(width)))
                let f0 = seg[s][2], f1 = seg[s][3], f2 = seg[s][4]
                if y0 >= y1 || x0 >= x1 { continue }
                for y in y0..<y1 {
                    let dy = (cy - Double(y)) * (cy - Double(y))
                    for x in x0..<x1 {
                        let i = y * width + x
                        let dx = cx - Double(x)
                        let a = feat[3 * i] - f0, b = feat[3 * i + 1] - f1, c = feat[3 * i + 2] - f2
                        let d = (dy + dx * dx) * spatialWeight + (a * a + b * b + c * c)
                        if distance[i] > d { nearest[i] = s; distance[i] = d; changed = true }
                    }
                }
            }
            if !changed { break }
            var sums = [[Double]](repeating: [0, 0, 0, 0, 0], count: k)
            var counts = [Double](repeating: 0, count: k)
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x, s = nearest[i]
                    counts[s] += 1
                    sums[s][0] += Double(y); sums[s][1] += Double(x)
                    sums[s][2] += feat[3 * i]; sums[s][3] += feat[3 * i + 1]; sums[s][4] += feat[3 * i + 2]
                }
            }
            for s in 0..<k { seg[s] = sums[s].map { $0 / counts[s] } }
        }

        // 4. Connectivity: relabel 4-connected components in raster order; small ones join a neighbour.
        let segmentSize = Double(n) / Double(k)
        let labels = enforceConnectivity(nearest, width: width, height: height,
                                         minSize: Int(p.minSizeFactor * segmentSize), maxSize: Int(p.maxSizeFactor * segmentSize))
        let count = Int(labels.max() ?? 0)
        return SuperPixels(width: width, height: height, labels: labels, count: count)
    }

    /// skimage `_enforce_label_connectivity_cython` with start_label 1 (labels 1...n).
    static func enforceConnectivity(_ segments: [Int], width: Int, height: Int, minSize: Int, maxSize: Int) -> [Int32] {
        let n = width * height
        var out = [Int32](repeating: 0, count: n)
        var current: Int32 = 1
        var queue = [Int](repeating: 0, count: max(maxSize, 1))
        let offsets = [(1, 0), (-1, 0), (0, 1), (0, -1)]
        for start in 0..<n where out[start] == 0 {
            let label = segments[start]
            var adjacent: Int32 = 0
            out[start] = current
            queue[0] = start
            var size = 1, visited = 0
            bfs: while visited < size && size < maxSize {
                let p = queue[visited], py = p / width, px = p % width
                for (dx, dy) in offsets {
                    let xx = px + dx, yy = py + dy
                    guard xx >= 0, xx < width, yy >= 0, yy < height else { continue }
                    let q = yy * width + xx
                    if segments[q] == label && out[q] == 0 {
                        out[q] = current
                        queue[size] = q
                        size += 1
                        if size >= maxSize { break }
                    } else if out[q] > 0 && out[q] != current {
                        adjacent = out[q]
                    }
                }
                visited += 1
                if size >= maxSize { break bfs }
            }
            if size < minSize {
                for j in 0..<size { out[queue[j]] = adjacent }
            } else {
                current += 1
            }
        }
        return out
    }

    /// skimage util.regular_grid for the (1, height, width) volume: seed rows/columns and the rounded steps.
    static func regularGrid(height: Int, width: Int, points: Int) -> (ys: [Int], xs: [Int], stepY: Int, stepX: Int) {
        let dims = [1, height, width]
        let order = dims.indices.sorted { dims[$0] < dims[$1] }      // stable argsort
        let sorted = order.map { dims[$0] }
        var space = Double(dims.reduce(1, *))
        if space <= Double(points) { return (Array(0..<height), Array(0..<width), 1, 1) }
        var steps = [Double](repeating: pow(space / Double(points), 1.0 / 3), count: 3)
        if zip(sorted, steps).contains(where: { Double($0) < $1 }) {
            for d in 0..<3 {
                steps[d] = Double(sorted[d])
                space = Double(sorted[(d + 1)...].reduce(1, *))
                for e in (d + 1)..<3 { steps[e] = pow(space / Double(points), 1.0 / Double(3 - d - 1)) }
                if zip(sorted, steps).allSatisfy({ Double($0) >= $1 }) { break }
            }
        }
        var startsSorted = steps.map { Int(($0 / 2).rounded(.down)) }
        var stepsSorted = steps.map { Int($0.rounded(.toNearestOrEven)) }
        // Undo the sort: dimension order[j] got sorted slot j.
        var starts = [0, 0, 0], st = [1, 1, 1]
        for (j, d) in order.enumerated() { starts[d] = startsSorted[j]; st[d] = max(1, stepsSorted[j]) }
        startsSorted = []; stepsSorted = []
        let ys = Array(stride(from: starts[1], to: height, by: st[1]))
        let xs = Array(stride(from: starts[2], to: width, by: st[2]))
        return (ys, xs, st[1], st[2])
    }

    /// skimage rgb2lab of the gray pixel (c, c, c), c in [0,1] (sRGB D65, 2-degree observer).
    static func labOfGray(_ c: Double) -> (Double, Double, Double) {
        let lin = c > 0.04045 ? pow((c + 0.055) / 1.055, 2.4) : c / 12.92
        let x = (0.412453 * lin + 0.357580 * lin + 0.180423 * lin) / 0.95047
        let y = (0.212671 * lin + 0.715160 * lin + 0.072169 * lin) / 1.0
        let z = (0.019334 * lin + 0.119193 * lin + 0.950227 * lin) / 1.08883
        func f(_ t: Double) -> Double { t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116.0 }
        let fx = f(x), fy = f(y), fz = f(z)
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }

    /// scipy.ndimage.gaussian_filter (truncate 4, mode 'reflect'), separable: rows then columns.
    static func gaussian(_ a: [Double], width: Int, height: Int, sigma: Double) -> [Double] {
        let r = Int(4 * sigma + 0.5)
        var w = (-r...r).map { exp(-0.5 / (sigma * sigma) * Double($0 * $0)) }
        let total = w.reduce(0, +)
        w = w.map { $0 / total }
        func reflect(_ i: Int, _ n: Int) -> Int {
            // d c b a | a b c d | d c b a, repeated as needed for tiny images.
            var i = i
            let period = 2 * n
            i = ((i % period) + period) % period
            return i < n ? i : period - 1 - i
        }
        var tmp = [Double](repeating: 0, count: a.count)
        for y in 0..<height {           // axis 0 (rows of the array = y) first, as scipy does
            for x in 0..<width {
                var s = 0.0
                for k in -r...r { s += w[k + r] * a[reflect(y + k, height) * width + x] }
                tmp[y * width + x] = s
            }
        }
        var out = [Double](repeating: 0, count: a.count)
        for y in 0..<height {
            for x in 0..<width {
                var s = 0.0
                for k in -r...r { s += w[k + r] * tmp[y * width + reflect(x + k, width)] }
                out[y * width + x] = s
            }
        }
        return out
    }
}
