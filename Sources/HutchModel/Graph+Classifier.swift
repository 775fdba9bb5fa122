/// Facts about the classifier interface that data validation and the CLI need.
extension Graph {
    /// The number of classes: the static second dimension of the logits [N, C].
    public var classCount: Int? {
        guard let shape = values[output.index].shape, shape.count == 2 else { return nil }
        return shape[1]
    }

    /// The static shape of one example (the input shape without the batch dimension).
    public var inputExampleShape: [Int]? {
        guard let shape = values[input.index].shape else { return nil }
        let dims = shape.dropFirst().compactMap { $0 }
        return dims.count == shape.count - 1 ? dims : nil
    }
}
