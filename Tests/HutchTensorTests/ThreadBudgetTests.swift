import Foundation
import XCTest
@testable import HutchTensor

/// `Kernels.withThreads` and `Kernels.parallelItems`: the budget the kernels see, items run
/// once each, errors come back.
final class ThreadBudgetTests: XCTestCase {
    struct Failure: Error, Equatable { let item: Int }

    func testWithThreadsSetsAndRestoresTheBudget() {
        let outside = Kernels.threads
        XCTAssertEqual(outside, Kernels.configuredThreads)
        Kernels.withThreads(3) {
            XCTAssertEqual(Kernels.threads, 3)
            Kernels.withThreads(1) { XCTAssertEqual(Kernels.threads, 1) }
            XCTAssertEqual(Kernels.threads, 3)
        }
        XCTAssertEqual(Kernels.threads, outside)
    }

    func testParallelItemsRunsEachItemOnceAndSplitsTheBudget() {
        for (budget, count) in [(1, 5), (2, 7), (4, 2), (6, 3)] {
            let seen = ItemLog()
            Kernels.withThreads(budget) {
                Kernels.parallelItems(count) { i in seen.add(i, threads: Kernels.threads) }
            }
            XCTAssertEqual(seen.items.sorted(), Array(0..<count), "budget \(budget)")
            let workers = min(budget, count)
            let expected = workers == 1 ? budget : budget / workers
            XCTAssertEqual(Set(seen.threads), [expected], "budget \(budget), \(count) items")
        }
    }

    func testParallelItemsRethrowsAnItemsError() {
        let result = Kernels.withThreads(2) { () -> Result<Void, Failure> in
            Result { () throws(Failure) in
                try Kernels.parallelItems(6) { (i) throws(Failure) in
                    if i == 3 { throw Failure(item: 3) }
                }
            }
        }
        XCTAssertEqual(result.error, Failure(item: 3))
    }
}

private extension Result {
    var error: Failure? { if case .failure(let e) = self { e } else { nil } }
}

private final class ItemLog: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var items: [Int] = []
    private(set) var threads: [Int] = []
    func add(_ item: Int, threads budget: Int) {
        lock.lock(); defer { lock.unlock() }
        items.append(item); threads.append(budget)
    }
}
