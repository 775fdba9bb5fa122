/// The product of dimensions, or nil on overflow: sizes come from untrusted files, so every
/// product that can be large is computed with overflow checks instead of trapping.
func checkedProduct<S: Sequence>(_ dims: S) -> Int? where S.Element == Int {
    var product = 1
    for dim in dims {
        let (next, overflow) = product.multipliedReportingOverflow(by: dim)
        if overflow { return nil }
        product = next
    }
    return product
}

/// Limits that keep every later size computation (element counts, MACs) far from overflow.
enum SizeLimits {
    /// Elements of one example of any value (2^32).
    static let elementsPerExample = 1 << 32
    /// Elements of one initializer (2^31).
    static let initializerElements = 1 << 31
    /// Elements of a tensor computed at load time by constant folding (2^20; shape math is tiny).
    static let foldedElements = 1 << 20
}
