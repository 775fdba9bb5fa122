/// How per-layer traces are measured.
public enum TraceMethod: String, Sendable, Hashable, CaseIterable, Codable {
    /// (1/N) sum_i sum_c ||d(A_i f_i)_c / dW||^2: exact for piecewise-linear networks.
    case exact
    /// Mean of v_l^T (H v)_l over Rademacher probes.
    case hutchinson
}

/// Which parameters one Hutchinson probe covers.
public enum ProbeMode: String, Sendable, Hashable, CaseIterable, Codable {
    /// One probe over every layer's weight: one HVP gives every layer's v_l^T (H v)_l.
    case joint
    /// One probe per layer group (by default one layer): less cross-layer noise, one HVP per group.
    case layer
}
