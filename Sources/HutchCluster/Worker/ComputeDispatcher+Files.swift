import HutchClusterCore
import HutchModel

extension ComputeDispatcher {
    /// The worker process's dispatcher: a file no fetched blob stands in for is read at the
    /// shared path the task names; data files are read a chunk at a time, and models (fetched or
    /// shared) are mapped, not read.
    public static func readingFiles() -> ComputeDispatcher {
        ComputeDispatcher(read: ModelSource.readFile, open: ModelSource.openFile, readModel: ModelSource.mapFile)
    }
}
