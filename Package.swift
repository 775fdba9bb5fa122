// swift-tools-version:6.0
// Hutch: Hessian-aware mixed-precision quantization, distributed over ZeroMQ.
// No package dependencies: Foundation plus Debian's system libraries (see Makefile `deps`).
import PackageDescription

let release: [SwiftSetting] = []

// HutchTensorAVX2 holds kernels compiled for AVX2 + FMA; HutchTensor calls them only when the
// CPU reports both (Kernels+DirectConv.swift). The manifest is compiled for the host, so this
// tests the build machine's architecture. ("x86-64-v3" is not accepted by -target-cpu.)
// HutchTensorAVX512 likewise for AVX-512 (F, CD, BW, DQ, VL).
#if arch(x86_64)
let avx2: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
let avx512: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "skylake-avx512"])]
#else
let avx2: [SwiftSetting] = []
let avx512: [SwiftSetting] = []
#endif

let package = Package(
    name: "Hutch",
    products: [
        .executable(name: "hutch", targets: ["hutch"]),
    ],
    targets: [
        // System-library shims: a module map and a header each, nothing else.
        // CZeroMQ without pkgConfig: Debian's libzmq.pc puts `-isystem /usr/include/mit-krb5` in its
        // cflags, which SwiftPM refuses with a warning on every build; zmq.h is in /usr/include and
        // the module map links `zmq` by name, so pkg-config adds nothing we need.
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),

        .target(name: "HutchTensorAVX2", swiftSettings: avx2),
        .target(name: "HutchTensorAVX512", dependencies: ["HutchTensorAVX2"], swiftSettings: avx512),
        // OneLineError: the one mechanism behind the kinded one-line error types.
        .target(name: "HutchErrors", swiftSettings: release),
        .target(name: "HutchTensor", dependencies: ["CBLAS", "HutchTensorAVX2", "HutchTensorAVX512"], swiftSettings: release),
        .target(name: "HutchModel", dependencies: ["HutchTensor", "CZlib", "CSodium"], swiftSettings: release),
        .target(name: "HutchAutodiff", dependencies: ["HutchModel", "HutchTensor"], swiftSettings: release),
        .target(name: "HutchAllocation", swiftSettings: release),
        .target(name: "HutchQuantize", dependencies: ["HutchTensor", "HutchModel", "HutchAutodiff", "HutchErrors"]),
        .target(name: "HutchSensitivity", dependencies: ["HutchAutodiff", "HutchModel", "HutchQuantize", "HutchErrors"],
                swiftSettings: release),
        .target(name: "HutchWire", swiftSettings: release),
        // Quantization-aware fine-tuning (`hutch finetune`): the training loop, no I/O.
        .target(name: "HutchFineTune", dependencies: ["HutchAutodiff", "HutchModel", "HutchQuantize", "HutchSensitivity", "HutchTensor"],
                swiftSettings: release),
        .target(name: "HutchReport", dependencies: ["HutchAllocation"]),
        // The cluster's pure core: coordinator, worker, journal codec, work specs. No ZeroMQ, clock
        // or files (HutchClusterTests.CorePurityTests checks what the dependencies cannot).
        .target(name: "HutchClusterCore",
                dependencies: ["HutchWire", "HutchSensitivity", "HutchQuantize", "HutchModel"],
                swiftSettings: release),
        // The cluster's shell around it: ZeroMQ transport, CURVE/ZAP, servers, journal writer, files.
        .target(name: "HutchCluster",
                dependencies: ["HutchClusterCore", "CZeroMQ", "HutchWire", "HutchSensitivity", "HutchAllocation", "HutchQuantize", "HutchModel",
                               "HutchErrors"],
                swiftSettings: release),
        // The jobs the commands run (trace, plan, quantize, report, the cluster's coordinator and
        // worker), their files and data loading; `hutch` parses flags, calls one job, prints.
        .target(name: "HutchJobs",
                dependencies: ["HutchModel", "HutchAutodiff", "HutchAllocation", "HutchSensitivity", "HutchQuantize", "HutchClusterCore",
                               "HutchCluster", "HutchReport", "HutchWire", "HutchTensor", "HutchFineTune"],
                swiftSettings: release),
        .executableTarget(name: "hutch",
                          dependencies: ["HutchJobs", "HutchModel", "HutchAllocation", "HutchSensitivity", "HutchQuantize", "HutchClusterCore",
                                         "HutchCluster", "HutchWire", "HutchFineTune"],
                          swiftSettings: release),
        .executableTarget(name: "AllocationBenchmark", dependencies: ["HutchAllocation"],
                          path: "Benchmarks/AllocationBenchmark"),
        .executableTarget(name: "ClusterBenchmark", dependencies: ["HutchClusterCore", "HutchCluster", "HutchSensitivity", "HutchWire"],
                          path: "Benchmarks/ClusterBenchmark"),
        .executableTarget(name: "SensitivityBenchmark", dependencies: ["HutchSensitivity", "CBLAS"],
                          path: "Benchmarks/SensitivityBenchmark"),
        .executableTarget(name: "EngineBenchmark", dependencies: ["HutchAutodiff", "HutchModel"],
                          path: "Benchmarks/EngineBenchmark"),

        .target(name: "HutchTestSupport", path: "Tests/HutchTestSupport"),
        .testTarget(name: "HutchTensorTests", dependencies: ["HutchTensor", "HutchTestSupport"]),
        .testTarget(name: "HutchModelTests", dependencies: ["HutchModel", "HutchTestSupport"]),
        .testTarget(name: "HutchAutodiffTests", dependencies: ["HutchAutodiff", "HutchModel", "HutchTestSupport"]),
        .testTarget(name: "HutchAllocationTests", dependencies: ["HutchAllocation", "HutchTestSupport"]),
        .testTarget(name: "HutchQuantizeTests", dependencies: ["HutchQuantize", "HutchModel", "HutchAutodiff", "HutchTestSupport"]),
        .testTarget(name: "HutchSensitivityTests",
                    dependencies: ["HutchSensitivity", "HutchAutodiff", "HutchModel", "HutchQuantize", "HutchTensor"]),
        .testTarget(name: "HutchFineTuneTests", dependencies: ["HutchFineTune", "HutchAutodiff", "HutchModel", "HutchQuantize", "HutchTestSupport"]),
        .testTarget(name: "HutchReportTests", dependencies: ["HutchReport", "HutchAllocation"]),
        .testTarget(name: "HutchWireTests", dependencies: ["HutchWire", "HutchTestSupport"]),
        .testTarget(name: "HutchClusterTests", dependencies: ["HutchClusterCore", "HutchCluster", "HutchWire", "HutchSensitivity", "HutchModel",
                                                             "HutchJobs", "HutchAllocation", "HutchTestSupport"]),
        .testTarget(name: "HutchJobsTests", dependencies: ["HutchJobs", "HutchClusterCore", "HutchCluster", "HutchModel", "HutchSensitivity", "HutchTestSupport"]),
        .testTarget(name: "hutchTests", dependencies: ["hutch", "HutchModel"]),
    ]
)
