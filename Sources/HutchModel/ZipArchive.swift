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

        /// The array an .npz member holds: its name without ".npy".
        var arrayName: String { name.hasSuffix(".npy") ? String(name.dropLast(4)) : name }
    }

    static func members(_ file: ByteSource, source: String) throws -> [Member] {
        func fail(_ message: String) -> ModelError { .invalidData("\(source): \(message)") }
        // End of central directory: 22 bytes plus a comment of up to 65535 bytes at the end.
        guard file.count >= 22 else { throw fail("not a .npz (zip) file: too short") }
        let lowest = max(0, file.count - 22 - 65_535)
        let tail = try file.bytes(lowest..<file.count)
        guard let end = stride(from: tail.count - 22, through: 0, by: -1).first(where: { u32(tail, $0) == 0x0605_4B50 }) else {
            throw fail("not a .npz (zip) file: no end of central directory; the file is truncated or not an archive")
        }
        let eocd = lowest + end
        let entries = Int(u16(tail, end + 10))
        let directorySize = Int(u32(tail, end + 12))
        let directoryOffset = Int(u32(tail, end + 16))
        let zip64Locator = eocd >= 20 ? u32(try file.bytes((eocd - 20)..<(eocd - 16)), 0) == 0x0706_4B50 : false
        if entries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF || zip64Locator {
            throw fail("is a zip64 archive, which Hutch does not read; save arrays under 4 GiB each with numpy.savez")
        }
        guard directoryOffset <= eocd, directorySize <= eocd - directoryOffset else { throw fail("central directory lies outside the file") }
        var members: [Member] = []
        var position = directoryOffset
        for _ in 0..<entries {
            guard position + 46 <= eocd else { throw fail("corrupt central directory entry") }
            let entry = try file.bytes(position..<(position + 46))
            guard u32(entry, 0) == 0x0201_4B50 else { throw fail("corrupt central directory entry") }
            let nameLength = Int(u16(entry, 28))
            let extraLength = Int(u16(entry, 30))
            let commentLength = Int(u16(entry, 32))
            guard position + 46 + nameLength <= eocd else { throw fail("corrupt central directory entry") }
            let name = String(decoding: try file.bytes((position + 46)..<(position + 46 + nameLength)), as: UTF8.self)
            let member = Member(name: name, method: u16(entry, 10), crc: u32(entry, 16),
                                compressedSize: Int(u32(entry, 20)), size: Int(u32(entry, 24)),
                                localHeaderOffset: Int(u32(entry, 42)))
            if member.compressedSize == 0xFFFF_FFFF || member.size == 0xFFFF_FFFF || member.localHeaderOffset == 0xFFFF_FFFF {
                throw fail("member '\(name)' uses zip64, which Hutch does not read; save arrays under 4 GiB each")
            }
            members.append(member)
            position += 46 + nameLength + extraLength + commentLength
        }
        return members
    }

    /// The uncompressed, CRC-checked bytes of a member.
    static func contents(of member: Member, in file: ByteSource, source: String) throws -> [UInt8] {
        var data: [UInt8] = []
        try stream(member, in: file, source: source, chunkBytes: 1 << 20) { data.append(contentsOf: $0) }
        return data
    }

    /// Hands the uncompressed bytes of a member to `consume` in order, at most `chunkBytes` at a
    /// time, and checks its CRC-32 after the last one: `consume` only records (a corrupt member
    /// is reported as such, whatever its bytes made of it), and acts once this returns.
    static func stream(_ member: Member, in file: ByteSource, source: String, chunkBytes: Int,
                       _ consume: (UnsafeRawBufferPointer) -> Void) throws {
        func fail(_ message: String) -> ModelError { .invalidData("\(source): member '\(member.name)' \(message)") }
        let header = member.localHeaderOffset
        guard header <= file.count - 30 else { throw fail("has a corrupt local header") }
        let local = try file.bytes(header..<(header + 30))
        guard u32(local, 0) == 0x0403_4B50 else { throw fail("has a corrupt local header") }
        let start = header + 30 + Int(u16(local, 26)) + Int(u16(local, 28))
        guard start <= file.count, member.compressedSize <= file.count - start else { throw fail("runs past the end of the file") }
        let stored = start..<(start + member.compressedSize)
        var crc = crc32(0, nil, 0)
        func emit(_ chunk: UnsafeRawBufferPointer) {
            crc = crc32(crc, chunk.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(chunk.count))
            consume(chunk)
        }
        switch member.method {
        case 0:
            guard member.size == member.compressedSize else { throw fail("is stored with inconsistent sizes") }
            try file.forEachChunk(of: stored, chunkBytes: chunkBytes) { chunk in chunk.withUnsafeBytes { emit($0) } }
        case 8:
            // Deflate expands at most ~1032:1, so a larger claimed size is corruption; checking
            // it first avoids allocating gigabytes for a damaged size field.
            guard member.size <= member.compressedSize * 1032 + 64 else { throw fail("claims an impossible uncompressed size; the file is corrupt") }
            try inflate(file, stored, size: member.size, chunkBytes: chunkBytes, fail: fail, emit)
        default:
            throw fail("uses compression method \(member.method); save with numpy.savez or numpy.savez_compressed")
        }
        guard UInt32(crc) == member.crc else { throw fail("fails its CRC-32 check; the file is corrupt") }
    }

    /// Raw deflate (no zlib header: windowBits -15) of a known output size, `chunkBytes` of input
    /// and of output at a time. It ends as one call with the whole output would: Z_STREAM_END
    /// with exactly `size` bytes, or the status that stopped it (Z_BUF_ERROR when the input ends
    /// early or the output would pass `size`).
    private static func inflate(_ file: ByteSource, _ range: Range<Int>, size: Int, chunkBytes: Int,
                                fail: (String) -> ModelError, _ emit: (UnsafeRawBufferPointer) -> Void) throws {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("could not be inflated (zlib initialisation failed)")
        }
        defer { inflateEnd(&stream) }
        let chunk = max(1, chunkBytes)
        var output = [UInt8](repeating: 0, count: min(chunk, max(1, size)))
        var input: [UInt8] = [], used = 0, next = range.lowerBound, produced = 0
        var status = Z_OK
        while true {
            if used == input.count, next < range.upperBound {
                input = try file.bytes(next..<min(next + chunk, range.upperBound))
                next += input.count
                used = 0
            }
            let room = min(output.count, size - produced)
            var consumed = 0, got = 0
            status = input.withUnsafeMutableBufferPointer { inBuffer in
                output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_in = inBuffer.baseAddress.map { $0 + used }
                    stream.avail_in = uInt(inBuffer.count - used)
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(room)
                    let result = CZlib.inflate(&stream, Z_NO_FLUSH)
                    consumed = inBuffer.count - used - Int(stream.avail_in)
                    got = room - Int(stream.avail_out)
                    return result
                }
            }
            used += consumed
            produced += got
            output.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
            if status == Z_STREAM_END || (status != Z_OK && status != Z_BUF_ERROR) { break }
            let moreInput = used == input.count && next < range.upperBound
            if consumed == 0 && got == 0 && !moreInput {
                status = Z_BUF_ERROR
                break
            }
        }
        guard status == Z_STREAM_END, produced == size else {
            throw fail("is not valid deflate data (zlib status \(status)); the file is corrupt")
        }
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
