import Foundation

/// Temperature scaling of the per-zone grade probabilities (Guo et al., 2017): p' = softmax(log p / T).
///
/// Applied to the network's softmax outputs after a run, never inside the network: the argmax is unchanged
/// for any T > 0, only how sure the probabilities are (a `median` readout can move where the cumulative
/// probability crosses 0.5, which is why calibration comes before the readout's decision). T > 1 flattens over-confident
/// outputs, T < 1 sharpens under-confident ones, T = 1 is the identity. T is fitted on out-of-fold
/// predictions (training/calibrate.py) and recorded in the bundle's model.json.
public struct ProbabilityCalibration: Sendable, Equatable {
    public let temperature: Double

    public static let identity = ProbabilityCalibration(uncheckedTemperature: 1)

    /// Throws unless T is finite and strictly positive (a hostile or broken model.json).
    public init(temperature: Double) throws {
        guard temperature.isFinite, temperature > 0 else { throw CalibrationError(temperature: temperature) }
        self.temperature = temperature
    }

    private init(uncheckedTemperature t: Double) { temperature = t }

    public var isIdentity: Bool { temperature == 1 }

    /// softmax(log p / T) of one zone's probabilities, in Double (log of small probabilities in Float
    /// loses the tail). Zero probabilities stay zero.
    public func apply(_ p: [Float]) -> [Float] {
        if isIdentity { return p }
        let logs = p.map { $0 > 0 ? Foundation.log(Double($0)) / temperature : -Double.infinity }
        guard let m = logs.max(), m.isFinite else { return p }
        let e = logs.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }
}

extension BSNetOutput {
    /// The same output with every zone's probabilities temperature-scaled (argmax grades do not change).
    public func calibrated(_ c: ProbabilityCalibration) -> BSNetOutput {
        var out = self
        out.regionProbabilities = regionProbabilities.map(c.apply)
        return out
    }
}

public struct CalibrationError: Error, CustomStringConvertible, Equatable {
    public let temperature: Double
    public var description: String { "calibration temperature \(temperature) is not a finite number > 0" }
}
