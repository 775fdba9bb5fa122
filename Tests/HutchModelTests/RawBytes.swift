/// Float32 values as little-endian raw bytes (TensorProto.raw_data).
func rawBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value -> [UInt8] in
        let bits = value.bitPattern
        return [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: bits >> UInt32($0)) }
    }
}

func rawBytes(_ values: [Int64]) -> [UInt8] {
    values.flatMap { value -> [UInt8] in
        let bits = UInt64(bitPattern: value)
        return stride(from: 0, to: 64, by: 8).map { UInt8(truncatingIfNeeded: bits >> UInt64($0)) }
    }
}
