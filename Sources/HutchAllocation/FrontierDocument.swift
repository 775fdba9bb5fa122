import Foundation

/// frontier.json: every Pareto-optimal (size, Ω) point with its widths, the uniform-precision
/// points, and the chosen plan's point (documented in Protocols/README.md).
public struct FrontierDocument: Codable, Sendable, Equatable {
    public var format = "hutch.frontier"
    public var version = 1
    public var sensitivityDigest: String
    public var objective: String
    /// "bops" when the frontier is of BOPs against Ω (a joint allocation); absent for size.
    public var cost: String?
    /// Node names: the order of every `bits` array.
    public var layers: [String]
    public var points: [Point]
    public var uniform: [Uniform]
    public var chosen: Point?

    public struct Point: Codable, Sendable, Equatable {
        public var sizeBits: Double
        public var sizeMegabytes: Double
        public var averageBits: Double
        public var omega: Double
        public var bits: [Int]
        /// Activation bits per layer and BOPs in a joint allocation (absent otherwise).
        public var activationBits: [Int]?
        public var bops: Double?
    }

    public struct Uniform: Codable, Sendable, Equatable {
        public var bits: Int
        public var sizeBits: Double
        public var sizeMegabytes: Double
        public var omega: Double
        /// True when no frontier point dominates it (it lies on the frontier).
        public var onFrontier: Bool
        /// In a joint allocation (activations at their widest).
        public var bops: Double?
    }

    public init(problem: AllocationProblem, frontier: [FrontierPoint], chosen: FrontierPoint?, sensitivityDigest: String) {
        let parameters = Double(problem.totalParameters)
        func point(_ p: FrontierPoint) -> Point {
            Point(sizeBits: p.sizeBits, sizeMegabytes: p.sizeBits / 8e6, averageBits: p.sizeBits / parameters,
                  omega: p.omega, bits: p.bits, activationBits: p.activationBits, bops: p.bops)
        }
        self.sensitivityDigest = sensitivityDigest
        objective = problem.objective.rawValue
        let byBOPs = problem.frontierCost == .bops
        cost = byBOPs ? CostKind.bops.rawValue : nil
        // the frontier's axis: size, or BOPs
        let axis: (FrontierPoint) -> Double = { byBOPs ? $0.bops! : $0.sizeBits }
        layers = problem.layers.map(\.node)
        points = frontier.map(point)
        uniform = problem.uniformPoints().map { entry in
            let p = entry.point
            let dominated = frontier.contains { f in
                axis(f) <= axis(p) && f.omega <= p.omega && (axis(f) < axis(p) || f.omega < p.omega * (1 - 1e-12))
            }
            return Uniform(bits: entry.bits, sizeBits: p.sizeBits, sizeMegabytes: p.sizeBits / 8e6, omega: p.omega,
                           onFrontier: !dominated, bops: p.bops)
        }
        self.chosen = chosen.map(point)
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
