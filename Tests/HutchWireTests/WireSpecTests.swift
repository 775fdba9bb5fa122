import Foundation
import XCTest
import HutchWire

/// Protocols/wire.md and the codec must agree: command bytes and names, field names and order,
/// and the size of every fixed-width field.
final class WireSpecTests: XCTestCase {
    private func spec() throws -> [String] {
        let url = VectorFile.directory.deletingLastPathComponent().appendingPathComponent("wire.md")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    private func cells(_ line: String) -> [String] {
        line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func testCommandTableMatchesTheCodec() throws {
        var table: [UInt8: String] = [:]
        for line in try spec() where line.hasPrefix("| 0x") {
            let row = cells(line)
            if let byte = UInt8(row[0].dropFirst(2), radix: 16) { table[byte] = row[1] }
        }
        XCTAssertEqual(table, Dictionary(uniqueKeysWithValues: WireCommand.allCases.map { ($0.rawValue, $0.description) }))
    }

    /// Field tables: which command they belong to, then (field, type) per frame in order.
    private func fieldTables() throws -> [WireCommand: [(name: String, type: String)]] {
        let byName = Dictionary(uniqueKeysWithValues: WireCommand.allCases.map { ($0.description, $0) })
        var tables: [WireCommand: [(name: String, type: String)]] = [:]
        var current: WireCommand?
        for line in try spec() {
            if line.hasPrefix("### 4.") {
                let named = byName.keys.filter { line.contains(" \($0) (0x") }
                current = named.count == 1 ? byName[named[0]] : nil
            } else if line.hasSuffix(":"), let command = byName[String(line.dropLast())] {
                current = command
            } else if line.hasPrefix("## ") {
                current = nil
            } else if line.hasPrefix("| "), let command = current {
                let row = cells(line)
                if row.count >= 3, let frame = Int(row[0]), frame >= 2 {
                    tables[command, default: []].append((row[1], row[2]))
                }
            }
        }
        return tables
    }

    func testFieldTablesMatchTheCodec() throws {
        let tables = try fieldTables()
        for command in WireCommand.allCases {
            XCTAssertEqual(tables[command]?.map(\.name) ?? [], command.fieldNames, "\(command)")
        }
    }

    func testFixedWidthFieldsHaveTheirSpecSize() throws {
        let widths = ["u8": 1, "u16": 2, "u32": 4, "u64": 8, "digest": 32]
        let tables = try fieldTables()
        var checked = 0
        for (name, message) in VectorCatalog.all {
            let frames = try WireCodec.encode(message)
            let fields = tables[message.command] ?? []
            XCTAssertEqual(frames.count, 2 + fields.count, name)
            for (field, frame) in zip(fields, frames.dropFirst(2)) {
                if let width = widths[field.type] {
                    XCTAssertEqual(frame.count, width, "\(name) field \(field.name)")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 40)
    }

    /// The decoder's field names (in WireError) follow `fieldNames` order: cutting a vector after
    /// i fields reports field i missing.
    func testDecoderReportsFieldsInSpecOrder() throws {
        for (name, message) in VectorCatalog.all {
            let frames = try WireCodec.encode(message)
            for (i, field) in message.command.fieldNames.enumerated() {
                XCTAssertThrowsError(try WireCodec.decode(Array(frames.prefix(2 + i))), name) { error in
                    XCTAssertEqual(error as? WireError, .missingField(message.command, field: field), name)
                }
            }
        }
    }
}
