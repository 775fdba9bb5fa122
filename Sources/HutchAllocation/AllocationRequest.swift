/// Names a layer on the command line: `first`, `last`, a node name or a weight initializer name.
public enum LayerSelector: Sendable, Equatable, CustomStringConvertible {
    case first
    case last
    case name(String)

    public init(_ text: String) {
        switch text {
        case "first": self = .first
        case "last": self = .last
        default: self = .name(text)
        }
    }

    public var description: String {
        switch self {
        case .first: return "first"
        case .last: return "last"
        case .name(let name): return name
        }
    }
}

/// Fixes a layer's bits; without `bits` the layer gets its highest candidate width. With several
/// candidate activation widths, `activationBits` fixes the layer's input activation too; a pin
/// with neither (a bare `--pin NAME`) fixes both at their highest candidates, and `weight: false`
/// leaves the weight width free (`--pin NAME=a8`).
public struct Pin: Sendable, Equatable {
    public var layer: LayerSelector
    public var bits: Int?
    public var activationBits: Int?
    public var weight: Bool
    public init(layer: LayerSelector, bits: Int? = nil, activationBits: Int? = nil, weight: Bool = true) {
        self.layer = layer
        self.bits = bits
        self.activationBits = activationBits
        self.weight = weight
    }

    /// Whether the pin fixes the activation width (only matters with several candidates).
    var pinsActivation: Bool { activationBits != nil || (bits == nil && weight) }
}

/// Which layers must share one bit width. `auto` ties layers with the same `tie_group` in
/// sensitivity.json (residual shortcut conv + main-path conv feeding one Add); `groups` are
/// explicit A=B(=C…) ties. Both may be combined; `none` is neither.
public struct TieSpec: Sendable, Equatable {
    public var auto: Bool
    public var groups: [[LayerSelector]]
    public init(auto: Bool = true, groups: [[LayerSelector]] = []) {
        self.auto = auto
        self.groups = groups
    }
    public static let none = TieSpec(auto: false, groups: [])
}

/// Everything `hutch plan` asks of the allocation besides the sensitivity file.
public struct AllocationRequest: Sendable {
    public static let defaultBits = [2, 3, 4, 5, 6, 8]

    /// Candidate weight widths for every layer (any subset of 1...16).
    public var bits: [Int]
    /// Per-layer candidate widths replacing `bits` for that layer.
    public var layerBits: [(layer: LayerSelector, bits: [Int])]
    public var objective: Objective
    public var budgets: [BudgetSpec]
    public var pins: [Pin]
    public var ties: TieSpec
    /// Activation width used in BOPs (MACs × weight bits × activation bits).
    public var activationBits: Int
    /// Candidate activation widths (`--act-bits`); nil means `[activationBits]`. With more than
    /// one, every layer chooses its weight and input-activation widths together (joint allocation).
    public var activationCandidates: [Int]?
    public var latencyTable: LatencyTable?

    public init(bits: [Int] = AllocationRequest.defaultBits, layerBits: [(layer: LayerSelector, bits: [Int])] = [],
                objective: Objective = .hawqV3, budgets: [BudgetSpec] = [], pins: [Pin] = [],
                ties: TieSpec = TieSpec(), activationBits: Int = 8, latencyTable: LatencyTable? = nil) {
        self.bits = bits
        self.layerBits = layerBits
        self.objective = objective
        self.budgets = budgets
        self.pins = pins
        self.ties = ties
        self.activationBits = activationBits
        self.latencyTable = latencyTable
    }
}
