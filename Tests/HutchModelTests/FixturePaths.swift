import Foundation

/// Tests/Fixtures/model, found from this source file (no SwiftPM resources needed).
let modelFixtures = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").appendingPathComponent("model")
