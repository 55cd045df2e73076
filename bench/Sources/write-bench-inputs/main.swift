// Writes labelled benchmark input INDEX to DIR/INDEX.log as LINES lines (one message a line) and prints
// "INDEX<TAB>label<TAB>grep token<TAB>path", for bench/run.sh's grep/wc baseline. Exits 1 past the last input.
import BenchInputs
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 4, let lines = Int(arguments[2]), lines > 0, let index = Int(arguments[3]), index >= 0 else {
    FileHandle.standardError.write(Data("usage: write-bench-inputs DIR LINES INDEX\n".utf8))
    exit(2)
}
guard index < BenchInputs.messages.count else { exit(1) }
let message = BenchInputs.messages[index]
let directory = URL(fileURLWithPath: arguments[1])
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

var line = message.bytes
line.append(0x0A)
let linesPerWrite = 10_000
var chunk: [UInt8] = []
chunk.reserveCapacity(line.count * linesPerWrite)
for _ in 0..<linesPerWrite { chunk.append(contentsOf: line) }

let path = directory.appendingPathComponent("\(index).log")
guard FileManager.default.createFile(atPath: path.path, contents: nil) else { exit(3) }
let handle = try FileHandle(forWritingTo: path)
var written = 0
while written < lines {
    let count = min(linesPerWrite, lines - written)
    try handle.write(contentsOf: chunk[0..<(count * line.count)])
    written += count
}
try handle.close()
print("\(index)\t\(message.label)\t\(message.grepToken)\t\(path.path)")
