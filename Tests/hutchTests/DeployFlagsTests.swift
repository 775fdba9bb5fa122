import Foundation
import XCTest

/// Every `hutch <command> --flag` written in Deploy/ (scripts, manifests, units, README) is a real
/// flag: the command and its flags are read from the built binary's `--help`, never from a list here.
final class DeployFlagsTests: XCTestCase {
    struct Use: CustomStringConvertible {
        var file: String
        var command: String
        var flags: [String]
        var description: String { "\(file): hutch \(command) \(flags.map { "--" + $0 }.joined(separator: " "))" }
    }

    /// The binary's commands (`hutch --help`, the indented words under "commands:").
    func commands() throws -> [String] {
        let help = try HutchProcess.run(["--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        guard let section = help.stdout.components(separatedBy: "commands:").dropFirst().first else { return [] }
        return section.split(separator: "\n").prefix { $0.hasPrefix("  ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// The flags `hutch COMMAND --help` lists.
    func flags(of command: String) throws -> Set<String> {
        let help = try HutchProcess.run([command, "--help"])
        XCTAssertEqual(help.status, 0, "hutch \(command) --help: \(help.stderr)")
        return Set(Self.matches(#"(?<![\w-])--([a-z][a-z0-9-]*)"#, in: help.stdout).map { $0[1] })
    }

    static func matches(_ pattern: String, in text: String) -> [[String]] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { match in
            (0..<match.numberOfRanges).map { i in
                match.range(at: i).location == NSNotFound ? "" : ns.substring(with: match.range(at: i))
            }
        }
    }

    /// Lines joined where a command goes on: a trailing backslash (shell, systemd) or an open
    /// YAML flow sequence (`command: [hutch, worker,` … `]`).
    static func logicalLines(_ text: String) -> [String] {
        var lines: [String] = [], current = "", depth = 0
        for raw in text.components(separatedBy: "\n") {
            var line = raw
            let continued = line.hasSuffix("\\")
            if continued { line.removeLast() }
            current += (current.isEmpty ? "" : " ") + line
            depth += line.filter { $0 == "[" }.count - line.filter { $0 == "]" }.count
            if !continued && depth <= 0 {
                lines.append(current)
                current = ""
                depth = 0
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// `hutch WORD --flags…` in one logical line: the binary as `hutch`, `…/hutch` or `$HUTCH`,
    /// the flags up to a shell separator (| ; && ||), a closing backtick (Markdown) or the next hutch.
    static func uses(in line: String, file: String) -> [(word: String, flags: [String])] {
        let start = #"(?:^|[\s"'`\[(,=])(?:[\w./-]*/)?(?:hutch|\$\{?HUTCH\}?|\$\{?hutch\}?)["']?[\s,]+["']?([a-z]+)(?=[\s"'`,\]]|$)"#
        guard let regex = try? NSRegularExpression(pattern: start) else { return [] }
        let ns = line as NSString
        let found = regex.matches(in: line, range: NSRange(location: 0, length: ns.length))
        return found.enumerated().map { i, match in
            let end = i + 1 < found.count ? found[i + 1].range.location : ns.length
            let tail = ns.substring(with: NSRange(location: match.range.upperBound, length: end - match.range.upperBound))
            let segment = tail.components(separatedBy: CharacterSet(charactersIn: "|;`")).first ?? ""
            let cut = segment.components(separatedBy: "&&").first ?? ""
            return (ns.substring(with: match.range(at: 1)), matches(#"(?<![\w-])--([a-z][a-z0-9-]*)"#, in: cut).map { $0[1] })
        }
    }

    func testEveryHutchFlagInDeployIsARealFlag() throws {
        let root = HutchProcess.repositoryRoot
        let deploy = root.appendingPathComponent("Deploy")
        let known = try commands()
        XCTAssertTrue(known.contains("worker") && known.contains("coordinator"), "hutch --help lists no cluster commands: \(known)")
        var help: [String: Set<String>] = [:]
        for command in known { help[command] = try flags(of: command) }

        var uses: [Use] = []
        let files = FileManager.default.enumerator(at: deploy, includingPropertiesForKeys: [.isRegularFileKey])?
            .compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true } ?? []
        XCTAssertFalse(files.isEmpty, "no files under \(deploy.path)")
        for url in files {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            let name = String(url.path.dropFirst(root.path.count + 1))
            for line in Self.logicalLines(text) {
                for use in Self.uses(in: line, file: name) {
                    // prose such as "the hutch binary" names no command; a word followed by flags does
                    guard known.contains(use.word) || !use.flags.isEmpty else { continue }
                    uses.append(Use(file: name, command: use.word, flags: use.flags))
                }
            }
        }
        // the extractor must see the commands the deployments run, or this test proves nothing
        for command in ["coordinator", "worker", "status"] {
            XCTAssertTrue(uses.contains { $0.command == command && !$0.flags.isEmpty }, "found no `hutch \(command) --…` in Deploy/")
        }
        var checked = 0
        for use in uses {
            guard let accepted = help[use.command] else {
                XCTFail("\(use): `\(use.command)` is not a command of this hutch (hutch --help)")
                continue
            }
            for flag in use.flags where flag != "help" {
                checked += 1
                XCTAssertTrue(accepted.contains(flag), "\(use): --\(flag) is not in `hutch \(use.command) --help`")
            }
        }
        XCTAssertGreaterThan(checked, 20, "too few flags found in Deploy/ (\(uses.count) uses)")
    }

    /// The extractor itself, on the forms Deploy/ uses.
    func testExtractorReadsShellYAMLAndSystemdForms() {
        let text = """
            "$HUTCH" coordinator --bind "$e" \\
                --state "$S" "$@" | tee --append log
            ExecStart=/usr/local/bin/hutch worker --connect ${C} --name %H
            command: [hutch, status, --connect, "tcp://x:1",
                      --timeout, "5"]
            test -e DONE || hutch status --json && echo --not-a-flag
            the hutch binary on the host
            --hutch /usr/local/bin/hutch hosts.txt -- --fetch-blobs
            one `hutch worker --connect E` per node with `srun --overlap`
            """
        let found = DeployFlagsTests.logicalLines(text).flatMap { DeployFlagsTests.uses(in: $0, file: "t") }
        XCTAssertEqual(found.map(\.word), ["coordinator", "worker", "status", "status", "binary", "worker"])
        XCTAssertEqual(found.map(\.flags), [["bind", "state"], ["connect", "name"], ["connect", "timeout"], ["json"], [], ["connect"]])
    }
}
