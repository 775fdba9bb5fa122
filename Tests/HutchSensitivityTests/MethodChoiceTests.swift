import HutchSensitivity
import XCTest

/// Cost-aware `auto`: given a calibration, which method it picks and why (no timing here).
final class MethodChoiceTests: XCTestCase {
    /// ResNet-18-like: 1000 classes; a reverse pass per example 0.1 s, a probe 0.3 s.
    func calibration(classes: Int = 1000, examples: Int = 128, ggnVariance: Double = 0.05,
                     hutchinsonVariance: Double = 400) -> MethodCalibration {
        MethodCalibration(examples: examples, classes: classes, forwardSeconds: 0.04, reverseSeconds: 0.1, probeSeconds: 0.3,
                          ggnRelativeVariance: ggnVariance, hutchinsonRelativeVariance: hutchinsonVariance)
    }

    func testManyClassesPickGaussNewtonOverExact() throws {
        let options = TraceOptions()
        let costs = MethodChoice.costs(calibration(), options: options, piecewiseLinear: true)
        XCTAssertEqual(costs.map(\.method), [.exact, .ggn, .hutchinson])
        // exact: 128 * (0.04 + 999 * 0.1); ggn: 0.05 / 0.05^2 = 20 samples (two rounds of 10)
        XCTAssertEqual(costs[0].seconds, 128 * (0.04 + 99.9), accuracy: 1e-6)
        XCTAssertEqual(costs[1].samples, 20)
        XCTAssertEqual(costs[1].seconds, 128 * (5 * 0.04 + 20 * 0.1), accuracy: 1e-6)
        XCTAssertEqual(costs[2].samples, 200)
        XCTAssertFalse(costs[2].reachesTolerance, "Hutchinson would need 160,000 probes")
        let chosen = try XCTUnwrap(MethodChoice.choose(costs))
        XCTAssertEqual(chosen.method, .ggn)
        let reason = MethodChoice.explain(chosen, costs, tolerance: options.tolerance)
        XCTAssertTrue(reason.hasPrefix("method auto: ggn"), reason)
        XCTAssertTrue(reason.contains("hutchinson") && reason.contains("short of the tolerance"), reason)
    }

    func testExactWinsWhenTheSampledMethodsNeedMoreSamplesThanItHasSeeds() throws {
        // 50 classes, a noisy ggn: 0.5 / 0.0025 = 200 samples > 49 seeds
        let costs = MethodChoice.costs(calibration(classes: 50, ggnVariance: 0.5), options: TraceOptions(), piecewiseLinear: true)
        XCTAssertEqual(MethodChoice.choose(costs)?.method, .exact)
        // a tolerance ggn cannot reach within --max-probes: not chosen even if it looked cheap
        var strict = TraceOptions()
        strict.tolerance = 0.001
        strict.maxProbes = 20
        let capped = MethodChoice.costs(calibration(classes: 1000), options: strict, piecewiseLinear: true)
        XCTAssertFalse(capped[1].reachesTolerance)
        XCTAssertEqual(capped[1].samples, 20)
        XCTAssertEqual(MethodChoice.choose(capped)?.method, .exact)
    }

    /// A fixed --probes sets the count; a method still has to be predicted to reach the tolerance.
    func testFixedProbesMustStillReachTheTolerance() throws {
        var options = TraceOptions()
        options.probes = 4
        let costs = MethodChoice.costs(calibration(ggnVariance: 0.01), options: options, piecewiseLinear: true)
        XCTAssertEqual(costs.compactMap(\.samples), [4, 4])
        XCTAssertEqual(costs.map(\.reachesTolerance), [true, true, false])
        XCTAssertEqual(MethodChoice.choose(costs)?.method, .ggn, "128 * (0.04 + 0.4) s against exact's 128 * 99.94 s")
        let noisy = MethodChoice.costs(calibration(ggnVariance: 0.05), options: options, piecewiseLinear: true)
        XCTAssertEqual(MethodChoice.choose(noisy)?.method, .exact, "4 samples give 0.05 / 4 > 0.05^2")
    }

    /// Not piecewise linear: neither exact nor ggn measures the Hessian, only Hutchinson is left.
    func testOtherNetworksOnlyHaveHutchinson() throws {
        let costs = MethodChoice.costs(calibration(), options: TraceOptions(), piecewiseLinear: false)
        XCTAssertEqual(costs.map(\.method), [.hutchinson])
        XCTAssertEqual(MethodChoice.choose(costs)?.method, .hutchinson, "the fastest when none reaches the tolerance")
    }

    /// The embedded example's 10 classes: exact's 9 seeds are fewer than one round of 10
    /// samples, so auto stays exact without calibrating (its outputs do not change).
    func testTenClassesKeepExactWithoutCalibrating() {
        XCTAssertTrue(MethodChoice.exactNeedsNoCalibration(classes: 10, options: TraceOptions()))
        XCTAssertTrue(MethodChoice.exactNeedsNoCalibration(classes: 11, options: TraceOptions()))
        XCTAssertFalse(MethodChoice.exactNeedsNoCalibration(classes: 12, options: TraceOptions()))
        var fixed = TraceOptions()
        fixed.probes = 2
        XCTAssertTrue(MethodChoice.exactNeedsNoCalibration(classes: 10, options: fixed))
    }
}

/// The calibration behind cost-aware `auto`, on a real fixture (its times are not checked, only
/// that they are measured and how the variances scale).
final class MethodCalibrationTests: XCTestCase {
    func testPilotMeasuresTimesAndVariances() throws {
        let c = try Fixtures.load("resnet_small")
        let options = TraceOptions()
        let eight = try MethodCalibration.measure(graph: c.graph, dataset: c.dataset, options: options, examples: 8)
        XCTAssertEqual(eight.classes, 5)
        XCTAssertGreaterThan(eight.forwardSeconds, 0)
        XCTAssertGreaterThan(eight.probeSeconds, 0)
        XCTAssertGreaterThan(eight.ggnRelativeVariance, 0)
        XCTAssertTrue(eight.hutchinsonRelativeVariance > 0 && eight.hutchinsonRelativeVariance.isFinite)
        // ggn's examples are independent: 10 times the examples, a tenth of the variance
        let eighty = try MethodCalibration.measure(graph: c.graph, dataset: c.dataset, options: options, examples: 80)
        XCTAssertEqual(eighty.ggnRelativeVariance * 10, eight.ggnRelativeVariance, accuracy: 1e-12 * eight.ggnRelativeVariance)
        XCTAssertEqual(eighty.hutchinsonRelativeVariance, eight.hutchinsonRelativeVariance)
    }

    /// Few classes, or a network that is not piecewise linear: auto is left as it was, nothing measured.
    func testAutoIsLeftAloneWhereCostCannotChangeIt() throws {
        for name in ["resnet_small", "tanh_mlp"] {
            let c = try Fixtures.load(name)
            let (options, reason) = try SensitivityAnalysis.resolveAuto(graph: c.graph, dataset: c.dataset, options: TraceOptions())
            XCTAssertEqual(options, TraceOptions())
            XCTAssertNil(reason)
        }
    }
}
