/// Elements one example contributes to a value: its static dimensions times `batchFactor` (the
/// symbolic dimensions are the batch). Used to size memory before any pass runs.
extension Value {
    public var elementsPerExample: Int {
        (shape ?? []).compactMap { $0 }.reduce(batchFactor, *)
    }
}
