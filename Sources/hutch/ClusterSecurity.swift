import Foundation
import HutchCluster
import HutchJobs

/// The CURVE flags of `hutch coordinator`, `worker`, `status` and `run --curve` (and the
/// clients' --connect).
enum ClusterSecurity {
    /// `--curve-key C.key --authorized-keys FILE`, both or neither.
    static func server(_ arguments: Arguments) throws -> CurveServerConfig? {
        try pair(arguments, "authorized-keys", "the coordinator's secret key and the worker keys it admits") { key, authorized in
            CurveServerConfig(keyPair: try KeyFile.readSecret(key), authorized: try AuthorizedKeys.read(authorized))
        }
    }

    /// `--curve-key W.key --coordinator-key C.pub`, both or neither.
    static func client(_ arguments: Arguments) throws -> CurveClientConfig? {
        try pair(arguments, "coordinator-key", "this client's secret key and the coordinator's public key") { key, coordinator in
            CurveClientConfig(keyPair: try KeyFile.readSecret(key), serverKey: try KeyFile.readPublic(coordinator))
        }
    }

    /// `--curve-key` and its partner flag make a config together; neither makes none; one alone
    /// is a usage error that says what the two are.
    private static func pair<Config>(_ arguments: Arguments, _ partner: String, _ what: String,
                                     make: (_ key: String, _ partner: String) throws -> Config) throws -> Config? {
        switch (arguments.string("curve-key"), arguments.string(partner)) {
        case (nil, nil): return nil
        case (let key?, let other?): return try make(key, other)
        default: throw CommandFailure(.usage, "--curve-key and --\(partner) go together: \(what)")
        }
    }

    static let serverFlags: [Arguments.Flag] = [
        .option("curve-key", "C.key", "the coordinator's CURVE secret key (hutch keygen): encrypt and authenticate; needs --authorized-keys"),
        .option("authorized-keys", "FILE", "worker public keys admitted, one per line (a line of each worker's .pub); others are refused and logged"),
    ]

    /// A coordinator client's flags (`hutch worker`, `hutch status`): --connect, the command's
    /// own, then the CURVE pair.
    static func clientFlags(around own: [Arguments.Flag]) -> [Arguments.Flag] {
        [.option("connect", "ENDPOINT", "the coordinator's endpoint, tcp://HOST:PORT (required)")] + own + [
            .option("curve-key", "W.key", "this client's CURVE secret key (hutch keygen); needs --coordinator-key"),
            .option("coordinator-key", "C.pub", "the coordinator's public key file (its .pub from hutch keygen)"),
        ]
    }

    /// Fresh keys for `hutch run --curve`: the coordinator's in memory, the local workers' in a
    /// private temporary directory (removed by `cleanup`), named on their command lines.
    struct Ephemeral {
        var server: CurveServerConfig
        var workerArguments: [String]
        var directory: String

        static func make() throws -> Ephemeral {
            var template = Array((NSTemporaryDirectory() + "/hutch-keys-XXXXXX").utf8CString)
            guard let made = mkdtemp(&template) else {
                throw CommandFailure(.io, "cannot create a temporary directory for the --curve keys: \(String(cString: strerror(errno)))")
            }
            let directory = String(cString: made)   // mkdtemp makes it mode 0700
            let coordinator = try CurveKeyPair.generate(), worker = try CurveKeyPair.generate()
            let prefix = directory + "/local-worker"
            try KeyFile.write(worker, prefix: prefix, overwrite: false)
            try KeyFile.write(coordinator, prefix: directory + "/coordinator", overwrite: false)
            // the workers need only the coordinator's public key; its secret stays in memory
            try? FileManager.default.removeItem(atPath: directory + "/coordinator.key")
            return Ephemeral(server: CurveServerConfig(keyPair: coordinator, authorized: AuthorizedKeys([worker.publicKey: "local"])),
                             workerArguments: ["--curve-key", prefix + ".key", "--coordinator-key", directory + "/coordinator.pub"],
                             directory: directory)
        }

        func cleanup() { try? FileManager.default.removeItem(atPath: directory) }
    }
}
