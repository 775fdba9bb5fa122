import Foundation
import HutchModel
import HutchTensor
import XCTest
@testable import HutchQuantize

/// The integer network of the example (4-bit weights, 8-bit activations) against onnxruntime
/// running Hutch's QDQ export: the codes of every QuantizeLinear on 32 images and the logits on
/// all 450 (Tests/Fixtures/quant/make_integer_fixture.py).
final class IntegerOnnxRuntimeTests: XCTestCase {
    func testCodesAndLogitsMatchOnnxRuntimeUpToRoundingBoundaries() throws {
        let data = try ExampleModel.data()
        let model = try ModelQuantizer(graph: try ExampleModel.graph(), widths: Array(repeating: LayerWidths(weightBits: 4, activationBits: 8), count: 7))
            .quantize(calibration: data.inputs)
        let fixture = try NumPyArchive.readNPZ(contentsOf: ExampleModel.root.appendingPathComponent("Tests/Fixtures/quant/digits_w4a8_ort_codes.npz"))
        let program = try IntegerProgram(model: model, exampleShape: data.exampleShape)
        let activations = program.points.dropLast()
        XCTAssertEqual(Set(activations.map { "codes:" + $0.quantization.name.replacingOccurrences(of: "/", with: "~") }),
                       Set(fixture.keys).subtracting(["logits"]))

        // Codes: where an image's codes first differ (earlier points agree, so both read the
        // same codes), each differing code must be one step off with the integer network's value
        // before rounding within its bound of the boundary between the two codes.
        let first32 = data.prefix(32)
        let run = try program.run(first32.inputs, unrounded: true)
        var compared = 0, differing = 0, imagesOff = 0
        for image in 0..<32 {
            for (p, point) in activations.enumerated() {
                let key = "codes:" + point.quantization.name.replacingOccurrences(of: "/", with: "~")
                let ort = try XCTUnwrap(fixture[key]?.integers(), key)
                let per = run.codes[p].perExample
                var differs = false
                for k in 0..<per {
                    let mine = run.codes[p].data[image * per + k], theirs = Int32(ort[image * per + k])
                    compared += 1
                    guard mine != theirs else { continue }
                    differs = true
                    differing += 1
                    let v = run.unrounded[p][image * per + k], boundary = Double(min(mine, theirs)) + 0.5
                    XCTAssertEqual(abs(mine - theirs), 1, "\(key) image \(image) element \(k)")
                    XCTAssertLessThanOrEqual(abs(v - boundary), point.bound(ofElement: k) + IntegerCheck.allowance,
                                             "\(key) image \(image) element \(k): \(v) is not at a rounding boundary")
                }
                if differs { imagesOff += 1; break }
            }
        }
        print("onnxruntime codes: \(differing) of \(compared) differ at the first differing point, in \(imagesOff) of 32 images")
        XCTAssertGreaterThan(compared, 32 * 1000)
        XCTAssertLessThan(Double(differing), 0.03 * Double(compared))
        // The bounds that explain them are small: a boundary explains a code only this close to it.
        for point in activations {
            XCTAssertLessThan((0..<4096).map { point.bound(ofElement: $0) }.max() ?? 0, 0.25, point.quantization.name)
        }

        // Logits on all 450 images: the predicted class, and the distance in output LSBs.
        let logits = try program.run(data.inputs).logits
        let ort = try XCTUnwrap(fixture["logits"]).floats()
        let out = try XCTUnwrap(program.points.last).quantization
        let classes = logits.shape[1]
        var agree = 0, largest: Int32 = 0
        for i in 0..<data.count {
            let mine = Array(logits.data[i * classes..<(i + 1) * classes]), theirs = Array(ort[i * classes..<(i + 1) * classes])
            if Tally.argmax(mine) == Tally.argmax(theirs) { agree += 1 }
            for (a, b) in zip(mine, theirs) { largest = max(largest, abs(a - out.grid.quantize(b, out.parameters))) }
        }
        print("onnxruntime logits: argmax agreement \(agree) / \(data.count), max difference \(largest) LSB")
        XCTAssertGreaterThanOrEqual(Double(agree) / Double(data.count), 0.995)
        XCTAssertLessThanOrEqual(largest, 2)
    }
}
