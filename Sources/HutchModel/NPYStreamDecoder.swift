/// One .npy (a file, or an .npz member) decoded as its bytes arrive, in chunks of any size: the
/// header, then the data, converted straight into an input's floats, kept as bytes (labels, and
/// Fortran-order inputs, which are reordered whole), or only passed over (arrays no one reads).
/// An error is kept until `finish`, so an .npz member's CRC failure is reported before it, as
/// when members were read whole.
struct NPYStreamDecoder {
    enum Use { case input, labels, unused }

    enum Decoded {
        case input(InputColumn)
        case array(NumPyArray)
        case checked
    }

    private let total: Int
    private let source: String
    private let use: Use
    private var prefix: [UInt8] = []
    private var layout: NPYLayout?
    private var failure: Error?
    private var column: InputColumn?
    private var converter: FloatConverter?
    private var kept: [UInt8]?
    private let keptExamples: Range<Int>?

    /// A .npy of `total` bytes; `source` names it in messages. An input keeps the floats of the
    /// examples `keptExamples` (nil: all), and checks every element.
    init(total: Int, source: String, use: Use, keptExamples: Range<Int>? = nil) {
        self.total = total
        self.source = source
        self.use = use
        self.keptExamples = keptExamples
    }

    mutating func consume(_ chunk: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        var rest = chunk[...]
        if layout == nil {
            while layout == nil {
                let needed = NPYLayout.prefixLength(prefix, total: total)
                if prefix.count < needed {
                    let taken = rest.prefix(needed - prefix.count)
                    prefix += taken
                    rest = rest.dropFirst(taken.count)
                    if prefix.count < needed { return }
                    continue
                }
                do {
                    try start(try NPYLayout(prefix: prefix, total: total, source: source))
                } catch {
                    failure = error
                    return
                }
            }
            // The header may have been read with the first data bytes after it.
            let early = Array(prefix[layout!.dataStart...])
            prefix = []
            early.withUnsafeBytes { take($0) }
        }
        take(UnsafeRawBufferPointer(rebasing: rest))
    }

    /// Chooses where the data goes once the header is known.
    private mutating func start(_ parsed: NPYLayout) throws {
        layout = parsed
        let bytes = total - parsed.dataStart
        switch use {
        case .unused: break
        case .labels: kept = []; kept?.reserveCapacity(bytes)
        case .input:
            var input = InputColumn(dtype: parsed.dtype, shape: parsed.shape, keeping: keptExamples)
            guard InputColumn.converts(parsed.dtype) else { column = input; break }
            if parsed.fortranOrder {
                kept = []
                kept?.reserveCapacity(bytes)
            } else {
                input.floats = [Float](repeating: 0, count: input.keptCount)
                converter = FloatConverter(dtype: parsed.dtype)
                converter?.skipped = input.skippedCount
            }
            column = input
        }
    }

    private mutating func take(_ data: UnsafeRawBufferPointer) {
        guard !data.isEmpty else { return }
        if converter != nil {
            column!.floats.withUnsafeMutableBufferPointer { converter!.convert(data, into: $0) }
        } else if kept != nil {
            kept!.append(contentsOf: data)
        }
    }

    /// The decoded array, or the first error its bytes gave.
    mutating func finish() throws -> Decoded {
        if let failure { throw failure }
        if layout == nil {
            // Fewer bytes than the header needs: the parser says what is wrong with them.
            try start(try NPYLayout(prefix: prefix, total: total, source: source))
        }
        guard let layout else { throw ModelError.invalidData("\(source): truncated .npy header") }
        if let bytes = kept {
            guard let array = NumPyArray(dtype: layout.dtype, shape: layout.shape, bytes: bytes) else {
                throw ModelError.invalidData("\(source): ended before its data did; the file is truncated")
            }
            let ordered = layout.fortranOrder ? array.fromFortranOrder() : array
            return use == .labels ? .array(ordered) : .input(InputColumn(ordered).keeping(keptExamples))
        }
        guard var column else { return .checked }
        if let converter { column.note(converter) }
        return .input(column)
    }
}
