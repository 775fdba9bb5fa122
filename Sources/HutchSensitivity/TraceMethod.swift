/// How per-layer traces are measured.
public enum TraceMethod: String, Sendable, Hashable, CaseIterable, Codable {
    /// (1/N) sum_i sum_c ||d(A_i f_i)_c / dW||^2: exact for piecewise-linear networks.
    case exact
    /// Mean of v_l^T (H v)_l over Rademacher probes.
    case hutchinson
    /// Sampled Gauss-Newton: per example and sample, ||d(u^T A_i f_i)/dW||^2 with Rademacher u;
    /// unbiased for Tr(GGN_ll), which is Tr(H_ll) for piecewise-linear networks.
    case ggn

    /// Whether results are averages over random probes or samples (standard errors, rounds).
    public var isSampled: Bool { self != .exact }
}

/// What a ggn trace measures (sensitivity.json `job.curvature`).
public enum Curvature: String, Sendable, Hashable, Codable {
    /// The network is piecewise linear in each weight: the Gauss-Newton block is the Hessian block.
    case hessian
    /// Otherwise: the generalized Gauss-Newton block, not the Hessian block.
    case gaussNewton = "gauss_newton"
}

/// Which parameters one Hutchinson probe covers.
public enum ProbeMode: String, Sendable, Hashable, CaseIterable, Codable {
    /// One probe over every layer's weight: one HVP gives every layer's v_l^T (H v)_l.
    case joint
    /// One probe per layer group (by default one layer): less cross-layer noise, one HVP per group.
    case layer
}
