print("SensitivityBenchmark: not written yet")
