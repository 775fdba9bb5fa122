/// Wide (int32 accumulator) values to b-bit activation codes, HAWQ-V3 style:
/// code = clamp(((v · b_c + 2^(s_c − 1)) >> s_c) + z, minCode, maxCode), where b_c / 2^s_c is
/// the dyadic form of M_c = (scale of channel c) / S. The shift rounds half up (toward +∞), as
/// integer kernels do; QuantizeLinear rounds half to even, so the two can differ only on an
/// exact tie, which the integer check reports as a boundary.
struct Requantizer: Sendable {
    var multipliers: [DyadicMultiplier]
    var layout: WideScales
    var zeroPoint: Int64
    var minCode: Int64
    var maxCode: Int64

    init(from layout: WideScales, to target: ActivationQuantization, node: String) throws(ExportError) {
        var multipliers: [DyadicMultiplier] = []
        for scale in layout.scales {
            do {
                multipliers.append(try DyadicMultiplier(scale / Double(target.parameters.scale)))
            } catch {
                throw ExportError(.model, "integer check: requantizing '\(target.name)' after node '\(node)': \(error)")
            }
        }
        self.multipliers = multipliers
        self.layout = layout
        zeroPoint = Int64(target.parameters.zeroPoint)
        minCode = Int64(target.grid.minCode)
        maxCode = Int64(target.grid.maxCode)
    }

    func callAsFunction(_ x: IntegerTensor) -> IntegerTensor {
        let per = x.perExample
        var codes = [Int32](repeating: 0, count: x.data.count)
        for (i, v) in x.data.enumerated() {
            let m = multipliers[layout.channel(ofElement: i % per)]
            codes[i] = Int32(min(max(m.apply(to: Int64(v)) + zeroPoint, minCode), maxCode))
        }
        return IntegerTensor(shape: x.shape, data: codes)
    }

    /// v · b_c / 2^s_c + z before rounding and clamping, in output LSBs. Floating point, for the
    /// integer check's explanations only; the network itself never computes it.
    func unrounded(_ x: IntegerTensor) -> [Double] {
        let per = x.perExample
        return x.data.enumerated().map { i, v in
            Double(v) * multipliers[layout.channel(ofElement: i % per)].value + Double(zeroPoint)
        }
    }

    /// How far, in output LSBs, the value before rounding can be from the QDQ model's for the
    /// element at `e` of an example (`WideScales.bounds` through the multiplier).
    func bound(ofElement e: Int) -> Double {
        let c = layout.channel(ofElement: e)
        return layout.bounds[c] * multipliers[c].value
    }
}
