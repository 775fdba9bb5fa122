import Foundation
import HutchJobs
import HutchModel

/// `hutch inspect`: what Hutch sees in a model — its interface, ops and quantizable layers.
struct InspectCommand: Command {
    static let name = "inspect"
    static let summary = "show a model's input, output, ops and quantizable layers"
    static let usage = "[--model] M.onnx [--json]"
    static let positional: String? = "model"
    static let flags: [Arguments.Flag] = [
        .option("model", "M.onnx", "the ONNX model to inspect"),
        .toggle("json", "print JSON instead of a table"),
    ]

    struct Report: Encodable {
        struct Tensor: Encodable { var name: String; var shape: [Int?] }
        struct Layer: Encodable {
            var node: String
            var op: String
            var weight: String
            var shape: [Int]
            var parameters: Int
            var macsPerExample: Int?
            /// "embedding" for a table looked up by token ids (0 MACs); nil (left out) otherwise.
            var kind: String?
            enum CodingKeys: String, CodingKey {
                case node, op, weight, shape, parameters, kind
                case macsPerExample = "macs_per_example"
            }
            /// Unknown MACs are written as null rather than left out.
            func encode(to encoder: Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(node, forKey: .node)
                try container.encode(op, forKey: .op)
                try container.encode(weight, forKey: .weight)
                try container.encode(shape, forKey: .shape)
                try container.encode(parameters, forKey: .parameters)
                try container.encode(macsPerExample, forKey: .macsPerExample)
                try container.encodeIfPresent(kind, forKey: .kind)
            }
        }
        var model: String
        var digest: String
        var producer: String
        var opset: Int64
        var input: Tensor
        /// The graph's data inputs when there are several (`input` is then their packed form).
        var inputs: [Tensor]?
        var output: Tensor
        var onnxOps: [String: Int]
        var ops: [String: Int]
        var layers: [Layer]
        var totalParameters: Int
        var totalMACsPerExample: Int
        enum CodingKeys: String, CodingKey {
            case model, digest, producer, opset, input, inputs, output, ops, layers
            case onnxOps = "onnx_ops"
            case totalParameters = "total_parameters"
            case totalMACsPerExample = "total_macs_per_example"
        }
    }

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.required("model")
        let report = try makeReport(path: path)
        if arguments.has("json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(text(report))
        }
    }

    static func makeReport(path: String) throws -> Report {
        let url = URL(fileURLWithPath: path)
        let bytes = try ONNXLoader.map(path) { _ in try [UInt8](contentsOfModel: url) }
        let proto = try ONNXLoader.decode(storage: bytes, source: path)
        let graph = try ONNXLoader.load(model: proto, source: path)
        let layers = graph.quantizableLayers.map {
            Report.Layer(node: $0.nodeName, op: $0.opType, weight: $0.weightName, shape: $0.shape,
                         parameters: $0.parameterCount, macsPerExample: $0.macsPerExample,
                         kind: $0.readsActivation ? nil : "embedding")
        }
        func tensor(_ id: ValueID) -> Report.Tensor {
            Report.Tensor(name: graph.values[id.index].name, shape: graph.values[id.index].shape ?? [])
        }
        var onnxOps: [String: Int] = [:]
        for node in proto.graph?.nodes ?? [] { onnxOps[node.opType, default: 0] += 1 }
        var ops: [String: Int] = [:]
        for node in graph.nodes { ops[node.op.onnxType, default: 0] += 1 }
        return Report(model: path, digest: Digest.sha256(bytes), producer: proto.producerName,
                      opset: proto.defaultOpset ?? 0, input: tensor(graph.input),
                      inputs: graph.dataInputs.count > 1 ? graph.dataInputs.map { Report.Tensor(name: $0.name, shape: [nil] + $0.exampleShape) } : nil,
                      output: tensor(graph.output),
                      onnxOps: onnxOps, ops: ops, layers: layers,
                      totalParameters: layers.map(\.parameters).reduce(0, +),
                      totalMACsPerExample: layers.compactMap(\.macsPerExample).reduce(0, +))
    }

    static func text(_ report: Report) -> String {
        func shape(_ dims: [Int?]) -> String { "[" + dims.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]" }
        func counts(_ ops: [String: Int]) -> String { ops.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
        var lines = [
            "model:    \(report.model)",
            "digest:   \(report.digest)",
            "producer: \(report.producer.isEmpty ? "unknown" : report.producer), opset \(report.opset)",
            "input:    \(report.input.name) \(shape(report.input.shape)) float32",
        ] + (report.inputs.map { ["packs:    " + $0.map { "\($0.name) \(shape($0.shape))" }.joined(separator: ", ")] } ?? []) + [
            "output:   \(report.output.name) \(shape(report.output.shape))",
            "ONNX ops: \(counts(report.onnxOps))",
            "executed: \(counts(report.ops))",
            "",
            "quantizable layers: \(report.layers.count), \(report.totalParameters) parameters, \(report.totalMACsPerExample) MACs per example",
        ]
        let header = ["#", "node", "op", "weight", "shape", "params", "MACs/example"]
        let rows = report.layers.enumerated().map { index, layer in
            [String(index), layer.node, layer.kind.map { "\(layer.op) (\($0))" } ?? layer.op, layer.weight, shape(layer.shape.map { $0 }), String(layer.parameters),
             layer.macsPerExample.map(String.init) ?? "?"]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            lines.append(row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column >= 5 || column == 0 ? pad + cell : cell + pad
            }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}

private extension Array where Element == UInt8 {
    /// The file's bytes, with a read failure mapped to ModelError.unreadableFile.
    init(contentsOfModel url: URL) throws {
        do {
            self = [UInt8](try Data(contentsOf: url))
        } catch {
            throw ModelError.unreadableFile(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }
}
