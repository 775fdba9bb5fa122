@testable import HutchJobs
import HutchSensitivity
import XCTest

/// The default of --memory: /proc/meminfo and cgroup limit files, and the budget made of them.
final class SystemMemoryTests: XCTestCase {
    func testMeminfoAndCgroupFilesAreParsed() {
        XCTAssertEqual(SystemMemory.meminfoTotal("MemTotal:       24000000 kB\nMemFree:  100 kB\n"), 24_000_000 * 1024)
        XCTAssertNil(SystemMemory.meminfoTotal("MemFree: 100 kB\n"))
        XCTAssertEqual(SystemMemory.cgroupLimit("2147483648\n"), 2_147_483_648)
        XCTAssertNil(SystemMemory.cgroupLimit("max\n"), "cgroup v2 without a limit")
        XCTAssertNil(SystemMemory.cgroupLimit("9223372036854771712\n"), "cgroup v1 without a limit")
        XCTAssertNotNil(SystemMemory.physicalBytes(), "Linux has /proc/meminfo")
    }

    func testTheBudgetIsHalfTheSmallerLimitAndAtMostTheFixedDefault() {
        XCTAssertEqual(MemoryBudget.defaultMemory(physical: 24 << 30, cgroupLimit: 2 << 30), 2 << 30)
        XCTAssertEqual(MemoryBudget.defaultMemory(physical: 24 << 30, cgroupLimit: nil), 24 << 30)
        XCTAssertNil(MemoryBudget.defaultMemory(physical: nil, cgroupLimit: nil))
        XCTAssertEqual(MemoryBudget.stackBytes(memory: 2 << 30), 1 << 30)
        XCTAssertEqual(MemoryBudget.stackBytes(memory: 24 << 30), 4 << 30, "a large machine keeps the 4 GiB of earlier versions")
        XCTAssertEqual(MemoryBudget.stackBytes(memory: -1), 0)
    }
}
