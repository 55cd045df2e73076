import Foundation

/// A directory of journal files made by `systemd-journal-remote` from export-format entries.
public struct JournalFixture {
    public static let remote = "/lib/systemd/systemd-journal-remote"
    public let temporary = TemporaryDirectory()
    public var directory: String { temporary.path }
    public var file: String { directory + "/fixture.journal" }

    public init() throws {}

    /// Appends entries (export format: text fields as `NAME=value`, others length-prefixed) to the fixture file.
    public func write(_ entries: [[(String, [UInt8])]]) throws {
        var export: [UInt8] = []
        for fields in entries {
            for (name, value) in fields {
                if value.contains(UInt8(ascii: "\n")) || String(validating: value, as: UTF8.self) == nil {
                    export += Array(name.utf8) + [0x0a]
                    withUnsafeBytes(of: UInt64(value.count).littleEndian) { export += $0 }
                    export += value + [0x0a]
                } else {
                    export += Array("\(name)=".utf8) + value + [0x0a]
                }
            }
            export.append(0x0a)
        }
        let input = directory + "/input.export"
        try Data(export).write(to: URL(fileURLWithPath: input))
        let result = try Peers.runProgram(Self.remote, ["-o", file, input])
        guard result.status == 0 else { throw POSIXError(.EIO, userInfo: [NSLocalizedDescriptionKey: "journal-remote failed: \(result.output)"]) }
        try FileManager.default.removeItem(atPath: input)
    }

    public func removeFiles() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".journal") {
            try FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }
}
