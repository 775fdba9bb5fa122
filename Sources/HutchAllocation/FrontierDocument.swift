import Foundation

/// frontier.json: every Pareto-optimal (size, Ω) point with its widths, the uniform-precision
/// points, and the chosen plan's point (documented in Protocols/README.md).
public struct FrontierDocument: Codable, Sendable, Equatable {
    public var format = "hutch.frontier"
    public var version = 1
    public var sensitivityDigest: String
    public var objective: String
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
        /// Activation bits per layer in a joint allocation (absent otherwise).
        public var activationBits: [Int]?
    }

    public struct Uniform: Codable, Sendable, Equatable {
        public var bits: Int
        public var sizeBits: Double
        public var sizeMegabytes: Double
        public var omega: Double
        /// True when no frontier point dominates it (it lies on the frontier).
        public var onFrontier: Bool
    }

    public init(problem: AllocationProblem, frontier: [FrontierPoint], chosen: FrontierPoint?, sensitivityDigest: String) {
        let parameters = Double(problem.totalParameters)
        func point(_ p: FrontierPoint) -> Point {
            Point(sizeBits: p.sizeBits, sizeMegabytes: p.sizeBits / 8e6, averageBits: p.sizeBits / parameters,
                  omega: p.omega, bits: p.bits, activationBits: p.activationBits)
        }
        self.sensitivityDigest = sensitivityDigest
        objective = problem.objective.rawValue
        layers = problem.layers.map(\.node)
        points = frontier.map(point)
        uniform = problem.uniformPoints().map { entry in
            let p = entry.point
            let dominated = frontier.contains { f in
                f.sizeBits <= p.sizeBits && f.omega <= p.omega && (f.sizeBits < p.sizeBits || f.omega < p.omega * (1 - 1e-12))
            }
            return Uniform(bits: entry.bits, sizeBits: p.sizeBits, sizeMegabytes: p.sizeBits / 8e6, omega: p.omega,
                           onFrontier: !dominated)
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
