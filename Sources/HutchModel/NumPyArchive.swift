import Foundation

/// Reading and writing .npy files and .npz archives (NumPy's savez / savez_compressed).
public enum NumPyArchive {
    /// The arrays of an .npz, keyed by name without the ".npy" suffix.
    public static func readNPZ(_ bytes: [UInt8], source: String) throws -> [String: NumPyArray] {
        var arrays: [String: NumPyArray] = [:]
        let file = ByteArraySource(bytes)
        for member in try ZipArchive.members(file, source: source) {
            let name = member.arrayName
            let data = try ZipArchive.contents(of: member, in: file, source: source)
            arrays[name] = try NumPyArray(npy: data, source: "\(source) array '\(name)'")
        }
        return arrays
    }

    public static func readNPZ(contentsOf url: URL) throws -> [String: NumPyArray] {
        try readNPZ(try ONNXLoader.readFile(url), source: url.path)
    }

    public static func readNPY(contentsOf url: URL) throws -> NumPyArray {
        try NumPyArray(npy: try ONNXLoader.readFile(url), source: url.path)
    }

    /// An .npz of stored (uncompressed) members in the given order, as numpy.savez writes it.
    public static func npzData(_ arrays: [(name: String, array: NumPyArray)]) -> [UInt8] {
        ZipArchive.stored(arrays.map { (name: $0.name + ".npy", data: $0.array.npyData()) })
    }

    public static func writeNPY(_ array: NumPyArray, to url: URL) throws {
        try write(array.npyData(), to: url)
    }

    public static func writeNPZ(_ arrays: [(name: String, array: NumPyArray)], to url: URL) throws {
        try write(npzData(arrays), to: url)
    }

    private static func write(_ bytes: [UInt8], to url: URL) throws {
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw ModelError.unwritableFile(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }
}
