import Foundation

/// The .npy format (numpy.lib.format, versions 1-3):
/// "\x93NUMPY", major, minor, header length (2 bytes in 1.0, 4 in 2.0 and 3.0), a Python dict
/// literal with 'descr', 'fortran_order' and 'shape', padded, then the data.
extension NumPyArray {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Parses .npy bytes; `source` names the file (or npz member) in messages.
    public init(npy bytes: [UInt8], source: String) throws {
        let layout = try NPYLayout(prefix: bytes, total: bytes.count, source: source)
        let array = NumPyArray(dtype: layout.dtype, shape: layout.shape, bytes: Array(bytes[layout.dataStart...]))!
        // NumPy stores arrays that are Fortran- but not C-contiguous (e.g. transposed views) in
        // Fortran order; Hutch's arrays are C order, so reorder once here.
        self = layout.fortranOrder ? array.fromFortranOrder() : array
    }

    /// The same array with its bytes reordered from Fortran (column-major) to C (row-major) order.
    func fromFortranOrder() -> NumPyArray {
        let rank = shape.count
        guard rank > 1, count > 1 else { return self }
        var fortranStrides = [Int](repeating: 1, count: rank)
        for axis in 1..<rank { fortranStrides[axis] = fortranStrides[axis - 1] * shape[axis - 1] }
        let size = dtype.size
        var reordered = [UInt8](repeating: 0, count: bytes.count)
        var index = [Int](repeating: 0, count: rank)
        for flat in 0..<count {
            let source = zip(index, fortranStrides).reduce(0) { $0 + $1.0 * $1.1 } * size
            for byte in 0..<size { reordered[flat * size + byte] = bytes[source + byte] }
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        var copy = self
        copy.bytes = reordered
        return copy
    }

    /// The array as .npy bytes, format 1.0 (2.0 when the header needs more than 65535 bytes).
    public func npyData() -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let large = header.utf8.count + 12 > 65_535
        let prefix = large ? 12 : 10
        let padding = (64 - (prefix + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: padding) + "\n"
        let length = header.utf8.count
        var result = NumPyArray.magic + [large ? 2 : 1, 0]
        result += littleEndianBytes(UInt64(length), large ? 4 : 2)
        result += Array(header.utf8)
        result += bytes
        return result
    }
}

/// What a .npy holds and where its data starts, read from its first bytes (`prefixLength`) with
/// every check of the header and of the data's size, so a reader can stream the data after it.
struct NPYLayout {
    var dtype: NumPyArray.DType
    var shape: [Int]
    var fortranOrder: Bool
    var dataStart: Int

    /// How many leading bytes of a .npy of `total` bytes the parser reads, given the first ones
    /// read so far: the fixed preamble, then the whole header (as much as there is).
    static func prefixLength(_ prefix: [UInt8], total: Int) -> Int {
        let fixed = min(total, 12)
        guard prefix.count >= fixed else { return fixed }
        guard prefix.count >= 10, Array(prefix[0..<6]) == NumPyArray.magic else { return prefix.count }
        let start: Int, length: Int
        switch prefix[6] {
        case 1: (start, length) = (10, Int(prefix[8]) | Int(prefix[9]) << 8)
        case 2, 3:
            guard prefix.count >= 12 else { return prefix.count }
            (start, length) = (12, (0..<4).reduce(0) { $0 | Int(prefix[8 + $1]) << (8 * $1) })
        default: return prefix.count
        }
        return length <= total - start ? max(prefix.count, start + length) : prefix.count
    }

    /// Parses the header in `prefix` (at least `prefixLength` bytes of a .npy of `total` bytes).
    init(prefix bytes: [UInt8], total: Int, source: String) throws {
        func fail(_ message: String) -> ModelError { .invalidData("\(source): \(message)") }
        guard total >= 10, Array(bytes[0..<6]) == NumPyArray.magic else {
            throw fail("not a .npy file (bad magic); save arrays with numpy.save or numpy.savez")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard total >= 12 else { throw fail("truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw fail(".npy format version \(major).\(bytes[7]) is not supported (1.0, 2.0 and 3.0 are)")
        }
        guard headerLength <= total - headerStart else { throw fail("truncated .npy header") }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        guard let header = String(validating: headerBytes, as: UTF8.self) else { throw fail(".npy header is not text") }
        let fields = try NPYHeader(parsing: header, fail: fail)
        let descr = fields.descr
        if descr.hasPrefix(">") && descr != ">u1" && descr != ">i1" {
            throw fail("array is big-endian (\(descr)); convert it with a.astype(a.dtype.newbyteorder('<'))")
        }
        let normalized = descr.replacingOccurrences(of: "=", with: "<")
            .replacingOccurrences(of: "<u1", with: "|u1").replacingOccurrences(of: "<i1", with: "|i1")
            .replacingOccurrences(of: ">u1", with: "|u1").replacingOccurrences(of: ">i1", with: "|i1")
        guard let dtype = NumPyArray.DType(rawValue: normalized) else {
            let accepted = NumPyArray.DType.allCases.map { "\($0.name) (\($0.rawValue))" }.joined(separator: ", ")
            throw fail("dtype '\(descr)' is not supported; use one of \(accepted)")
        }
        let dataStart = headerStart + headerLength
        guard NumPyArray.byteCount(dtype: dtype, shape: fields.shape) == total - dataStart else {
            let expected = checkedProduct(fields.shape + [dtype.size]).map { "\($0)" } ?? "more than 2^63"
            throw fail("holds \(total - dataStart) data bytes but shape \(fields.shape) of \(dtype.name) needs \(expected); the file is truncated or corrupt")
        }
        self.dtype = dtype
        shape = fields.shape
        fortranOrder = fields.fortranOrder
        self.dataStart = dataStart
    }
}

/// The three keys of a .npy header dict, parsed without a Python evaluator.
struct NPYHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    init(parsing text: String, fail: (String) -> ModelError) throws {
        func value(of key: String) throws -> Substring {
            guard let keyRange = text.range(of: "'\(key)'") ?? text.range(of: "\"\(key)\""),
                  let colon = text[keyRange.upperBound...].firstIndex(of: ":") else {
                throw fail(".npy header has no '\(key)': \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return text[text.index(after: colon)...].drop { $0 == " " }
        }
        let descrText = try value(of: "descr")
        guard let quote = descrText.first, quote == "'" || quote == "\"",
              let end = descrText.dropFirst().firstIndex(of: quote) else {
            throw fail(".npy header has a structured or unreadable 'descr'; save a plain numeric array")
        }
        descr = String(descrText[descrText.index(after: descrText.startIndex)..<end])
        let orderText = try value(of: "fortran_order")
        if orderText.hasPrefix("True") { fortranOrder = true } else if orderText.hasPrefix("False") { fortranOrder = false } else {
            throw fail(".npy header has an unreadable 'fortran_order'")
        }
        let shapeText = try value(of: "shape")
        guard shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else { throw fail(".npy header has an unreadable 'shape'") }
        let inner = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
        shape = try inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { item in
            guard let dim = Int(item.hasSuffix("L") ? String(item.dropLast()) : item), dim >= 0 else {
                throw fail(".npy header has an invalid dimension '\(item)' in 'shape'")
            }
            return dim
        }
    }
}
