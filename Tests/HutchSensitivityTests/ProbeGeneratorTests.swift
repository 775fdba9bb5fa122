import HutchSensitivity
import XCTest

/// The counter-based generator: fixed vectors (from an independent Python implementation of the
/// documented formula), and the properties the cluster relies on.
final class ProbeGeneratorTests: XCTestCase {
    func testSplitMixOutputFunctionMatchesKnownValues() {
        // SplitMix64 seeded with 0 (and 1) starts with these outputs.
        XCTAssertEqual(ProbeGenerator.mix(0), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(ProbeGenerator.mix(1), 0x910A_2DEC_8902_5CC1)
    }

    func testWordVectors() {
        // python: mix(mix(mix(mix(mix(seed) ^ stream) ^ probe) ^ layer) ^ block)
        XCTAssertEqual(ProbeGenerator(seed: 0).word(probe: 0, layer: 0, block: 0), 0x78AE_5A9A_6B5F_D45E)
        XCTAssertEqual(ProbeGenerator(seed: 42).word(probe: 3, layer: 5, block: 0), 0x7BA1_40D8_BB25_AD32)
        XCTAssertEqual(ProbeGenerator(seed: 42).word(probe: 3, layer: 5, block: 1), 0x366E_AFCC_8D18_67FC)
        XCTAssertEqual(ProbeGenerator(seed: 42).word(stream: .eigenvalue, probe: 3, layer: 5, block: 0), 0x6854_E9F3_9781_A679)
        XCTAssertEqual(ProbeGenerator(seed: 12345).word(probe: 99, layer: 2, block: 7), 0xAEE9_A20A_C315_70D3)
    }

    func testSignsFollowTheWordBits() {
        let g = ProbeGenerator(seed: 7)
        XCTAssertEqual(g.signs(Float.self, probe: 1, layer: 2, count: 10), [-1, -1, -1, -1, 1, -1, -1, -1, -1, 1])
        let long: [Double] = g.signs(probe: 5, layer: 3, count: 200)
        for e in 0..<200 {
            let bit = (g.word(probe: 5, layer: 3, block: e / 64) >> UInt64(e % 64)) & 1
            XCTAssertEqual(long[e], bit == 1 ? -1 : 1, "element \(e)")
        }
    }

    func testAProbeDependsOnlyOnItsKey() {
        let g = ProbeGenerator(seed: 3)
        let full: [Float] = g.signs(probe: 4, layer: 1, count: 1000)
        // a shorter request is a prefix: no hidden state, no dependence on the count
        XCTAssertEqual(Array(full.prefix(130)), g.signs(probe: 4, layer: 1, count: 130))
        XCTAssertEqual(full, g.signs(probe: 4, layer: 1, count: 1000))
        XCTAssertNotEqual(full, g.signs(probe: 5, layer: 1, count: 1000))
        XCTAssertNotEqual(full, g.signs(probe: 4, layer: 2, count: 1000))
        XCTAssertNotEqual(full, ProbeGenerator(seed: 4).signs(probe: 4, layer: 1, count: 1000))
        XCTAssertNotEqual(full, g.signs(stream: .eigenvalue, probe: 4, layer: 1, count: 1000))
    }

    func testSignsAreBalancedAndUncorrelated() {
        let g = ProbeGenerator(seed: 11)
        let n = 100_000
        let a: [Double] = g.signs(probe: 0, layer: 0, count: n)
        let b: [Double] = g.signs(probe: 1, layer: 0, count: n)
        let c: [Double] = g.signs(probe: 0, layer: 1, count: n)
        let bound = 5 / Double(n).squareRoot()   // 5 standard deviations
        XCTAssertLessThan(abs(a.reduce(0, +) / Double(n)), bound)
        XCTAssertLessThan(abs(zip(a, b).map(*).reduce(0, +) / Double(n)), bound)
        XCTAssertLessThan(abs(zip(a, c).map(*).reduce(0, +) / Double(n)), bound)
        // neighbouring elements are not correlated either
        XCTAssertLessThan(abs(zip(a, a.dropFirst()).map(*).reduce(0, +) / Double(n)), bound)
        XCTAssertTrue(a.allSatisfy { $0 == 1 || $0 == -1 })
    }
}
