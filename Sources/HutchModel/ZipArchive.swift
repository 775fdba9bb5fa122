import CZlib

/// The members of a .zip archive as NumPy's savez / savez_compressed write it: found through the
/// central directory (local headers only give where the data starts), stored or deflated, each
/// CRC-32 checked. Zip64 archives (members over 4 GiB) are refused.
enum ZipArchive {
    struct Member {
        var name: String
        var method: UInt16
        var crc: UInt32
        var compressedSize: Int
        var size: Int
        var localHeaderOffset: Int
    }

    static func members(_ bytes: [UInt8], source: String) throws -> [Member] {
        func fail(_ message: String) -> ModelError { .invalidData("\(source): \(message)") }
        // End of central directory: 22 bytes plus a comment of up to 65535 bytes at the end.
        guard bytes.count >= 22 else { throw fail("not a .npz (zip) file: too short") }
        let lowest = max(0, bytes.count - 22 - 65_535)
        guard let eocd = stride(from: bytes.count - 22, through: lowest, by: -1).first(where: { u32(bytes, $0) == 0x0605_4B50 }) else {
            throw fail("not a .npz (zip) file: no end of central directory; the file is truncated or not an archive")
        }
        let entries = Int(u16(bytes, eocd + 10))
        let directorySize = Int(u32(bytes, eocd + 12))
        let directoryOffset = Int(u32(bytes, eocd + 16))
        if entries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF
            || (eocd >= 20 && u32(bytes, eocd - 20) == 0x0706_4B50) {
            throw fail("is a zip64 archive, which Hutch does not read; save arrays under 4 GiB each with numpy.savez")
        }
        guard directoryOffset <= eocd, directorySize <= eocd - directoryOffset else { throw fail("central directory lies outside the file") }
        var members: [Member] = []
        var position = directoryOffset
        for _ in 0..<entries {
            guard position + 46 <= eocd, u32(bytes, position) == 0x0201_4B50 else { throw fail("corrupt central directory entry") }
            let nameLength = Int(u16(bytes, position + 28))
            let extraLength = Int(u16(bytes, position + 30))
            let commentLength = Int(u16(bytes, position + 32))
            guard position + 46 + nameLength <= eocd else { throw fail("corrupt central directory entry") }
            let name = String(decoding: bytes[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self)
            let member = Member(name: name, method: u16(bytes, position + 10), crc: u32(bytes, position + 16),
                                compressedSize: Int(u32(bytes, position + 20)), size: Int(u32(bytes, position + 24)),
                                localHeaderOffset: Int(u32(bytes, position + 42)))
            if member.compressedSize == 0xFFFF_FFFF || member.size == 0xFFFF_FFFF || member.localHeaderOffset == 0xFFFF_FFFF {
                throw fail("member '\(name)' uses zip64, which Hutch does not read; save arrays under 4 GiB each")
            }
            members.append(member)
            position += 46 + nameLength + extraLength + commentLength
        }
        return members
    }

    /// The uncompressed, CRC-checked bytes of a member.
    static func contents(of member: Member, in bytes: [UInt8], source: String) throws -> [UInt8] {
        func fail(_ message: String) -> ModelError { .invalidData("\(source): member '\(member.name)' \(message)") }
        let header = member.localHeaderOffset
        guard header <= bytes.count - 30, u32(bytes, header) == 0x0403_4B50 else { throw fail("has a corrupt local header") }
        let start = header + 30 + Int(u16(bytes, header + 26)) + Int(u16(bytes, header + 28))
        guard start <= bytes.count, member.compressedSize <= bytes.count - start else { throw fail("runs past the end of the file") }
        let stored = Array(bytes[start..<(start + member.compressedSize)])
        let data: [UInt8]
        switch member.method {
        case 0:
            guard member.size == member.compressedSize else { throw fail("is stored with inconsistent sizes") }
            data = stored
        case 8:
            // Deflate expands at most ~1032:1, so a larger claimed size is corruption; checking
            // it first avoids allocating gigabytes for a damaged size field.
            guard member.size <= member.compressedSize * 1032 + 64 else { throw fail("claims an impossible uncompressed size; the file is corrupt") }
            data = try inflate(stored, size: member.size, fail: fail)
        default:
            throw fail("uses compression method \(member.method); save with numpy.savez or numpy.savez_compressed")
        }
        guard crc32Of(data) == member.crc else { throw fail("fails its CRC-32 check; the file is corrupt") }
        return data
    }

    /// Raw deflate (no zlib header: windowBits -15) of a known output size.
    private static func inflate(_ input: [UInt8], size: Int, fail: (String) -> ModelError) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: size)
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("could not be inflated (zlib initialisation failed)")
        }
        defer { inflateEnd(&stream) }
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else {
            throw fail("is not valid deflate data (zlib status \(status)); the file is corrupt")
        }
        return output
    }

    static func crc32Of(_ data: [UInt8]) -> UInt32 {
        data.withUnsafeBufferPointer { buffer in
            UInt32(crc32(0, buffer.baseAddress, uInt(buffer.count)))
        }
    }

    /// A zip archive of stored (uncompressed) members.
    static func stored(_ members: [(name: String, data: [UInt8])]) -> [UInt8] {
        var archive: [UInt8] = []
        var directory: [UInt8] = []
        for member in members {
            let name = Array(member.name.utf8)
            let crc = crc32Of(member.data)
            let offset = archive.count
            // version 20, no flags, method 0, time/date 0 (1980-00-00 is fine for readers).
            let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc)
                + le32(UInt32(member.data.count)) + le32(UInt32(member.data.count)) + le16(UInt16(name.count)) + le16(0)
            archive += le32(0x0403_4B50) + common + name + member.data
            directory += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(UInt32(offset)) + name
        }
        let directoryOffset = archive.count
        archive += directory
        archive += le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(members.count)) + le16(UInt16(members.count))
            + le32(UInt32(directory.count)) + le32(UInt32(directoryOffset)) + le16(0)
        return archive
    }

    private static func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        guard offset >= 0, offset + 2 <= bytes.count else { return 0 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    private static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        guard offset >= 0, offset + 4 <= bytes.count else { return 0 }
        return UInt32(u16(bytes, offset)) | UInt32(u16(bytes, offset + 2)) << 16
    }

    private static func le16(_ value: UInt16) -> [UInt8] { littleEndianBytes(UInt64(value), 2) }
    private static func le32(_ value: UInt32) -> [UInt8] { littleEndianBytes(UInt64(value), 4) }
}
