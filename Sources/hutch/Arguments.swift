import HutchJobs

/// The flags of one command line: `--name value` pairs and bare `--switch`es.
/// Every command declares its flags; anything else is a usage error naming the flag.
struct Arguments {
    struct Flag {
        var name: String
        var takesValue: Bool
        var help: String
        /// Placeholder shown in help, e.g. "PATH".
        var valueName: String

        static func option(_ name: String, _ valueName: String, _ help: String) -> Flag {
            Flag(name: name, takesValue: true, help: help, valueName: valueName)
        }
        static func toggle(_ name: String, _ help: String) -> Flag {
            Flag(name: name, takesValue: false, help: help, valueName: "")
        }
    }

    private(set) var values: [String: String] = [:]
    private(set) var switches: Set<String> = []

    /// Parses `argv` (without the command name) against `flags`. When `positional` names a flag,
    /// one bare word is accepted as that flag's value (`hutch inspect M.onnx`).
    init(_ argv: [String], flags: [Flag], positional: String? = nil) throws {
        let byName = Dictionary(flags.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var index = 0
        while index < argv.count {
            let word = argv[index]
            guard word.hasPrefix("--") else {
                guard let positional, values[positional] == nil else {
                    throw CommandFailure(.usage, "unexpected argument '\(word)'; flags start with --")
                }
                values[positional] = word
                index += 1
                continue
            }
            var name = String(word.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let flag = byName[name] else {
                throw CommandFailure(.usage, "unknown flag --\(name); see --help")
            }
            if flag.takesValue {
                if let inlineValue {
                    values[name] = inlineValue
                } else {
                    guard index + 1 < argv.count else {
                        throw CommandFailure(.usage, "--\(name) needs a value (\(flag.valueName))")
                    }
                    index += 1
                    values[name] = argv[index]
                }
            } else {
                guard inlineValue == nil else { throw CommandFailure(.usage, "--\(name) takes no value") }
                switches.insert(name)
            }
            index += 1
        }
    }

    func string(_ name: String) -> String? { values[name] }

    func has(_ name: String) -> Bool { switches.contains(name) || values[name] != nil }

    func required(_ name: String) throws -> String {
        guard let value = values[name] else { throw CommandFailure(.usage, "missing required flag --\(name)") }
        return value
    }

    /// A required ZeroMQ TCP endpoint, tcp://HOST:PORT (--connect, --bind).
    func endpoint(_ name: String) throws -> String {
        let endpoint = try required(name)
        guard endpoint.hasPrefix("tcp://") else {
            throw CommandFailure(.usage, "--\(name) must be tcp://HOST:PORT, got '\(endpoint)'")
        }
        return endpoint
    }

    func int(_ name: String, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw CommandFailure(.usage, "--\(name) expects an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// A flag naming a case of `T` by its raw value; `cases` lists them for the message ("exact or greedy").
    func choice<T: RawRepresentable>(_ name: String, _ cases: String) throws -> T? where T.RawValue == String {
        guard let text = values[name] else { return nil }
        guard let value = T(rawValue: text) else { throw CommandFailure(.usage, "--\(name) must be \(cases), got '\(text)'") }
        return value
    }

    func double(_ name: String) throws -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw CommandFailure(.usage, "--\(name) expects a finite number, got '\(text)'")
        }
        return value
    }
}
