/// One data input of the ONNX graph (not an initializer): its name, the shape of one example and
/// whether it takes integers (token ids, attention masks; carried as exact floats below 2^24).
///
/// A graph with several data inputs (a BERT-style `input_ids` + `attention_mask`) reads them from
/// one packed input [N, F]: each example's inputs flattened and concatenated in the order of
/// their names (sorted by UTF-8 bytes), F the sum of their sizes. `Dataset` packs `.npz` arrays
/// the same way, so the engine, chunking and the cluster see one input as before.
public struct DataInput: Sendable, Equatable {
    public var name: String
    public var exampleShape: [Int]
    public var holdsIntegers: Bool

    public init(name: String, exampleShape: [Int], holdsIntegers: Bool) {
        self.name = name
        self.exampleShape = exampleShape
        self.holdsIntegers = holdsIntegers
    }

    /// Elements of one example.
    public var exampleSize: Int { exampleShape.reduce(1, *) }

    /// The packing order of several inputs: by name.
    public static func packingOrder(_ names: [String]) -> [String] {
        names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}
