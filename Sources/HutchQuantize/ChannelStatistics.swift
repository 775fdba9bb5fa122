/// What the range rules need from one channel, computed once and shared by every bit width.
struct ChannelStatistics: Sendable, Equatable {
    var min: Float = .infinity
    var max: Float = -.infinity
    var sumAbs: Double = 0
    var count: Int = 0

    init(_ values: [Float]) {
        for v in values {
            min = Swift.min(min, v)
            max = Swift.max(max, v)
            sumAbs += Double(abs(v))
        }
        count = values.count
    }

    var meanAbs: Double { count == 0 ? 0 : sumAbs / Double(count) }
}
