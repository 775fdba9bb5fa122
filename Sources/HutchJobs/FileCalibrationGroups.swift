import HutchClusterCore
import HutchModel
import HutchQuantize
import HutchTensor

/// Calibration examples read from the data files a window at a time, so the coordinator holds one
/// window's floats at export time instead of the whole set's. Each window reads the files (kept
/// open since the load: `OpenDataFiles`) through again (checking every element, as every load does): ceil(examples / examplesPerRead) reads.
/// The forward passes take `batchSize` examples: a forward keeps every activation of its batch
/// (ResNet-18 at 224x224: about 30 MB an example), which bounds calibration memory more than the
/// data does. Min-max ranges do not depend on either size (`ModelQuantizer.calibrate`).
struct FileCalibrationGroups: CalibrationExamples {
    var source: DataSource
    /// The examples in the files (`Dataset.examplesInFiles`).
    var examples: Int
    var examplesPerRead: Int
    var batchSize: Int
    var files: OpenDataFiles

    /// Windows of at most `readBytes` of floats (at least one example) from `dataset`'s files,
    /// the ones `files` opened to load it.
    init(source: DataSource, dataset: Dataset, files: OpenDataFiles, readBytes: Int = 256 << 20, batchSize: Int = 8) {
        self.source = source
        self.files = files
        examples = dataset.examplesInFiles
        let exampleBytes = max(1, dataset.inputs.count / max(1, dataset.count)) * MemoryLayout<Float>.size
        examplesPerRead = max(1, readBytes / exampleBytes)
        self.batchSize = max(1, batchSize)
    }

    func forEachGroup(_ body: (Tensor<Float>) throws -> Void) throws {
        for start in stride(from: 0, to: examples, by: examplesPerRead) {
            let window = try source.dataset(examples: start..<min(examples, start + examplesPerRead)) { path, what in
                try files.open(path, what: what)
            }
            try TensorGroups(window.inputs, groupSize: batchSize).forEachGroup(body)
        }
    }
}
