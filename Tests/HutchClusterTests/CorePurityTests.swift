import Foundation
import XCTest

/// HutchClusterCore stays pure: its manifest entry keeps ZeroMQ out (it does not depend on
/// CZeroMQ), and this test keeps out what a dependency cannot: files, clocks, the C library and
/// system shims reachable through other targets. The simulator replays the cores only because
/// every input, `now` included, comes from outside.
final class CorePurityTests: XCTestCase {
    static let core = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/HutchClusterCore")

    /// Text whose presence means I/O, a clock or the environment (comments included: a core
    /// comment has no reason to name them).
    static let forbidden = [
        "import CZeroMQ", "import CSodium", "import CZlib", "import Glibc", "import Darwin", "import Dispatch",
        "FileManager", "FileHandle", "contentsOf:", "write(to:", "fopen", "Date()", "DispatchTime",
        "ContinuousClock", "SuspendingClock", "clock_gettime", "ProcessInfo", "getenv",
    ]

    /// The forbidden texts `source` contains.
    static func violations(_ source: String) -> [String] {
        forbidden.filter { source.contains($0) }
    }

    func testCoreSourcesUseNoIOClockOrEnvironment() throws {
        let files = try XCTUnwrap(FileManager.default.enumerator(atPath: Self.core.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        XCTAssertGreaterThan(files.count, 20, "no sources found at \(Self.core.path)")
        for file in files {
            let text = try String(contentsOf: Self.core.appendingPathComponent(file), encoding: .utf8)
            XCTAssertEqual(Self.violations(text), [], "Sources/HutchClusterCore/\(file)")
        }
    }

    /// The check itself catches what it names.
    func testViolationsAreFound() {
        XCTAssertEqual(Self.violations("import Glibc\nlet t = Date()\n"), ["import Glibc", "Date()"])
        XCTAssertEqual(Self.violations("let now = DispatchTime.now()"), ["DispatchTime"])
        XCTAssertEqual(Self.violations("public struct WorkerCore { var now: UInt64 }"), [])
    }
}
