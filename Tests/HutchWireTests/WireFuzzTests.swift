import XCTest
import HutchTestSupport
import HutchWire

/// Truncations and seeded random mutations of every golden vector: decoding never traps, and
/// whatever decodes re-encodes to exactly the mutated bytes (the encoding is canonical).
final class WireFuzzTests: XCTestCase {
    private typealias Generator = SplitMix64

    private func check(_ frames: [[UInt8]], _ context: String) -> Bool {
        do {
            let message = try WireCodec.decode(frames)
            let again = try WireCodec.encode(message)
            XCTAssertEqual(again, frames, "\(context): decoded \(message) but re-encoded differently")
            return true
        } catch {
            return false
        }
    }

    private func vectors() throws -> [[[UInt8]]] { try VectorCatalog.all.map { try WireCodec.encode($0.message) } }

    func testTruncationsNeverTrap() throws {
        for (n, frames) in try vectors().enumerated() {
            for count in 0..<frames.count {
                XCTAssertFalse(check(Array(frames.prefix(count)), "vector \(n) first \(count) frames"))
            }
            for index in frames.indices where !frames[index].isEmpty {
                for length in 0..<frames[index].count {
                    var cut = frames
                    cut[index] = Array(cut[index].prefix(length))
                    _ = check(cut, "vector \(n) frame \(index) cut to \(length)")
                }
            }
        }
    }

    func testRandomMutationsNeverTrap() throws {
        var rng = Generator(seed: 0x4855_5443_4821)
        var decoded = 0, rejected = 0
        for (n, original) in try vectors().enumerated() {
            for round in 0..<3000 {
                var frames = original
                for _ in 0..<Int.random(in: 1...3, using: &rng) { mutate(&frames, &rng) }
                if check(frames, "vector \(n) round \(round)") { decoded += 1 } else { rejected += 1 }
            }
        }
        // Both outcomes must occur, or the mutations are not exercising the decoder.
        XCTAssertGreaterThan(decoded, 100)
        XCTAssertGreaterThan(rejected, 100)
    }

    private func mutate(_ frames: inout [[UInt8]], _ rng: inout Generator) {
        let choice = Int.random(in: 0..<7, using: &rng)
        if frames.isEmpty { frames.append([]); return }
        let index = Int.random(in: frames.indices, using: &rng)
        switch choice {
        case 0 where !frames[index].isEmpty:  // flip bits in one byte
            let at = Int.random(in: frames[index].indices, using: &rng)
            frames[index][at] ^= UInt8.random(in: 1...255, using: &rng)
        case 1:  // insert a byte
            frames[index].insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...frames[index].count, using: &rng))
        case 2 where !frames[index].isEmpty:  // delete a byte
            frames[index].remove(at: Int.random(in: frames[index].indices, using: &rng))
        case 3:  // drop a frame
            frames.remove(at: index)
        case 4:  // duplicate a frame
            frames.insert(frames[index], at: index)
        case 5:  // replace a frame with random bytes
            frames[index] = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        default:  // set a byte to a boundary value
            if frames[index].isEmpty { frames[index] = [0xFF] } else {
                frames[index][Int.random(in: frames[index].indices, using: &rng)] = [0, 1, 0x7F, 0x80, 0xFF].randomElement(using: &rng)!
            }
        }
    }
}
