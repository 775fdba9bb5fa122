import HutchFineTune
import HutchJobs

/// `hutch finetune`: quantization-aware fine-tuning to a plan's widths; writes the QDQ ONNX model.
struct FinetuneCommand: Command {
    static let name = "finetune"
    static let summary = "fine-tune a model quantization-aware to a plan's widths and write the QDQ ONNX model"
    static let usage = """
        [--model M.onnx] --plan plan.json [--data D.npz | --inputs X.npy --labels Y.npy] [--epochs E] [--batch-size B] \
        [--lr R] [--order hessian|all] [--sensitivity sensitivity.json] [--eigen] [--seed S] [--threads T] --out Q.onnx \
        [--packed F.hutchq] [--log L.json]
        """
    static let flags: [Arguments.Flag] = [
        .option("model", "PATH", "the float ONNX model the plan was made for (default: the embedded example Examples/digits_resnet.onnx)"),
        .option("plan", "PATH", "plan.json from `hutch plan`: weight and activation widths per layer (required)"),
    ] + DataFlags.flags(data: ".npz with x and y: the training data, also calibrates activation ranges (default with no --model: Examples/digits.npz)") + [
        .option("epochs", "E", "passes over the data per stage (default 4)"),
        .option("batch-size", "B", "examples per step (default 32)"),
        .option("lr", "R", "peak learning rate of SGD with momentum 0.9 under a cosine schedule, restarted each stage (default 0.01)"),
        .option("order", "NAME", "hessian: HAWQ-V1 stages, most sensitive block first, --epochs each (default); all: every layer at once"),
        .option("sensitivity", "PATH", "sensitivity.json of this model for --order hessian (default: traces computed on the data)"),
        .toggle("eigen", "--order hessian ranks blocks by top Hessian eigenvalue (HAWQ-V1) instead of trace per parameter"),
        .option("seed", "S", "shuffling seed (default 0); a seed and a thread count give identical bytes"),
        .option("threads", "T", "compute threads (default: all cores); the result may differ between thread counts"),
        .option("out", "PATH", "where to write the QDQ ONNX model (required)"),
        .option("packed", "PATH", "also write the bit-packed weight file (Protocols/packed-weights.md)"),
        .option("log", "PATH", "where to write the JSON log (default: OUT with .onnx replaced by .finetune.json)"),
    ]

    static func run(_ arguments: Arguments) throws {
        let plan = try arguments.required("plan")
        let out = try arguments.required("out")
        let inputs = try JobInputs.locate(model: arguments.string("model"), data: try DataFlags.source(arguments), loss: try DataFlags.loss(arguments))
        var job = FineTuneJob(model: inputs.model, plan: plan, data: inputs.data, out: out)
        if let epochs = try arguments.int("epochs", range: 1...100_000) { job.options.epochs = epochs }
        if let batch = try arguments.int("batch-size", range: 1...1_000_000) { job.options.batchSize = batch }
        if let rate = try arguments.double("lr") {
            guard rate > 0, rate.isFinite else { throw CommandFailure(.usage, "--lr must be a positive number, got \(rate)") }
            job.options.learningRate = rate
        }
        if let seed = try arguments.int("seed", range: 0...Int.max) { job.options.seed = UInt64(seed) }
        job.order = try arguments.choice("order", "hessian or all") ?? .hessian
        job.sensitivity = arguments.string("sensitivity")
        if job.sensitivity != nil && job.order != .hessian {
            throw CommandFailure(.usage, "--sensitivity orders the stages of --order hessian; give --order hessian or drop it")
        }
        job.eigen = arguments.has("eigen")
        if job.eigen && job.order != .hessian {
            throw CommandFailure(.usage, "--eigen orders the stages of --order hessian; give --order hessian or drop it")
        }
        job.threads = try arguments.int("threads", range: 1...1024)
        (job.packed, job.logFile) = (arguments.string("packed"), arguments.string("log"))
        let log = try job.run()
        let pct = { (x: Double) in String(format: "%.2f %%", x * 100) }
        print("fine-tuned \(log.stages.count) stage(s) on \(log.examples) examples: quantized loss \(String(format: "%.5f", log.before.loss)) → "
              + "\(String(format: "%.5f", log.written.loss)), accuracy \(pct(log.before.accuracy)) → \(pct(log.written.accuracy)) → \(out)")
    }
}
