import Foundation
import HutchCluster
import HutchJobs

/// `hutch keygen`: a CURVE keypair for a coordinator, a worker or a status client.
struct KeygenCommand: Command {
    static let name = "keygen"
    static let summary = "write a CURVE keypair: PREFIX.key (secret, mode 0600) and PREFIX.pub (public)"
    static let usage = "--out PREFIX [--force]"
    static let flags: [Arguments.Flag] = [
        .option("out", "PREFIX", "write PREFIX.key and PREFIX.pub (required); PREFIX's file name becomes the key's name in PREFIX.pub"),
        .toggle("force", "replace an existing keypair (the old one stops working)"),
    ]

    static func run(_ arguments: Arguments) throws {
        let prefix = try arguments.required("out")
        let name = URL(fileURLWithPath: prefix).lastPathComponent
        guard !prefix.hasSuffix("/"), !name.isEmpty, name != ".", name != "..",
              !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " || $0 == "\t" }) else {
            throw CommandFailure(.usage, "--out must be a path prefix like keys/worker1 (its file name without spaces), got '\(prefix)'")
        }
        // a missing key directory is created private (like ~/.ssh)
        let parent = URL(fileURLWithPath: prefix).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: parent) {
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw CommandFailure(.io, "cannot create the key directory '\(parent)': \((error as NSError).localizedDescription)")
            }
        }
        let pair = try CurveKeyPair.generate()
        try KeyFile.write(pair, prefix: prefix, overwrite: arguments.has("force"))
        print("""
            secret key → \(prefix).key (mode 0600: keep it on this host, never copy it)
            public key → \(prefix).pub: \(pair.publicKey.z85)
              a worker's or status client's .pub line goes into the coordinator's --authorized-keys file;
              the coordinator's .pub goes to every worker as --coordinator-key
            """)
    }
}
