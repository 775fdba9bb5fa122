import Foundation
import Synchronization

/// Temporary directories a process removes when SIGINT or SIGTERM stops it, as on a clean exit
/// (launchers and `hutch run` stop workers that way). The handler only posts a semaphore, which
/// is async-signal-safe; a thread waiting on it removes the directories and then ends the
/// process by the same signal, so the exit status is what it was without the handler.
enum SignalCleanup {
    private static let directories = Mutex<[String]>([])
    private static let received = Atomic<Int32>(0)
    private nonisolated(unsafe) static let semaphore: UnsafeMutablePointer<sem_t> = {
        let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
        return semaphore
    }()
    private static let installed = Mutex(false)

    /// Removes `path` (recursively) if SIGINT or SIGTERM arrives before `forget(path)`.
    static func removeOnSignal(_ path: String) {
        directories.withLock { $0.append(path) }
        installed.withLock { done in
            guard !done else { return }
            done = true
            _ = semaphore   // made before any handler can post it
            Thread.detachNewThread {
                while sem_wait(semaphore) != 0 {}
                let number = received.load(ordering: .relaxed)
                for path in directories.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
                signal(number, SIG_DFL)
                raise(number)
            }
            for sig in [SIGINT, SIGTERM] {
                signal(sig) { number in
                    SignalCleanup.received.store(number, ordering: .relaxed)
                    sem_post(SignalCleanup.semaphore)
                }
            }
        }
    }

    /// The directory was removed on the normal path; a later signal leaves it alone.
    static func forget(_ path: String) {
        directories.withLock { $0.removeAll { $0 == path } }
    }
}
