import NotiLogTestSupport
import Testing

@testable import NotiLogAgent

/// The file source against a model: seeded random appends (some lines left unfinished), rename + create
/// rotations (to names the pattern matches or not), copytruncate, deletions, new files and agent restarts, with a
/// poll after every step. The model knows which lines each file (stream of writes) should yield: every complete
/// line, plus the unfinished last line of a file that was deleted, rotated away or truncated (nothing more will
/// complete it there). What the source sent must be exactly that, in order per stream, each line once.
///
/// Copytruncate happens only after a poll has read everything (real copytruncate may lose lines written between
/// the copy and the truncation; that is the method's, not the reader's), and every position sent counts as
/// acknowledged, so a restart must neither lose nor repeat anything.
@Suite("File source model")
struct FileSourceModelTests {
    struct Stream {
        var lines: [String] = []
        /// Written so far of an unfinished line, and the rest of it.
        var partial = ""
        var rest = ""
    }

    struct LiveFile {
        var name: String
        var stream: Int
    }

    @Test(arguments: 1...20 as ClosedRange<UInt64>)
    func randomWritesRotationsTruncationsDeletionsAndRestarts(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let t = try Tail()
        var streams: [Stream] = []
        var live: [LiveFile] = []
        var counter = 0
        var history: [String] = []

        func newFile(_ name: String) {
            streams.append(Stream())
            live.append(LiveFile(name: name, stream: streams.count - 1))
            t.append(name, "")
        }
        func makeLine(_ stream: Int) -> (id: String, payload: String) {
            counter += 1
            let payload = String((0..<Int.random(in: 0...40, using: &rng)).map { _ in "abcdefghij é".randomElement(using: &rng)! })
            return ("s\(stream)-\(counter)-", payload)
        }
        /// The stream's unfinished line will not be completed in this file: the source sends it as it is.
        func cutShort(_ stream: Int) {
            if !streams[stream].partial.isEmpty { streams[stream].lines.append(streams[stream].partial) }
            streams[stream].partial = ""
            streams[stream].rest = ""
        }

        newFile("f0.log")
        for _ in 0..<120 {
            let roll = Int.random(in: 0..<100, using: &rng)
            let pick = live.isEmpty ? nil : Int.random(in: 0..<live.count, using: &rng)
            switch (roll, pick) {
            case (0..<50, let i?):
                let s = live[i].stream
                var text = ""
                let end = Int.random(in: 0..<5, using: &rng) == 0 ? "\r\n" : "\n"
                if !streams[s].partial.isEmpty {
                    text += streams[s].rest + end
                    streams[s].lines.append(streams[s].partial + streams[s].rest)
                    streams[s].partial = ""
                    streams[s].rest = ""
                }
                for _ in 0..<Int.random(in: 0...3, using: &rng) {
                    let line = makeLine(s)
                    text += line.id + line.payload + end
                    streams[s].lines.append(line.id + line.payload)
                }
                if Bool.random(using: &rng) {
                    let line = makeLine(s)
                    let cut = Int.random(in: 0...line.payload.count, using: &rng)
                    streams[s].partial = line.id + String(line.payload.prefix(cut))
                    streams[s].rest = String(line.payload.dropFirst(cut))
                    text += streams[s].partial
                }
                t.append(live[i].name, text)
                history.append("append \(live[i].name) \(text.debugDescription)")
            case (50..<62, let i?):
                counter += 1
                let name = live[i].name
                if Bool.random(using: &rng) {
                    let to = "\(name).\(counter)"  // no longer matched: finished, then closed
                    t.rename(name, to)
                    cutShort(live[i].stream)
                    live.remove(at: i)
                    history.append("rotate \(name) → \(to)")
                } else {
                    let to = "\(name.dropLast(4))-r\(counter).log"  // still matched: just followed on
                    t.rename(name, to)
                    live[i].name = to
                    history.append("rotate \(name) → \(to)")
                }
                newFile(name)
            case (62..<70, let i?):
                counter += 1
                t.copy(live[i].name, "\(live[i].name).c\(counter)")
                t.truncate(live[i].name)
                cutShort(live[i].stream)
                history.append("copytruncate \(live[i].name)")
            case (70..<76, let i?):
                t.delete(live[i].name)
                cutShort(live[i].stream)
                history.append("delete \(live[i].name)")
                live.remove(at: i)
            case (76..<84, _):
                counter += 1
                newFile("f\(counter).log")
                history.append("create f\(counter).log")
            case (84..<92, _):
                try t.restart()
                history.append("restart")
            default:
                history.append("poll")
            }
            t.clock.advance(seconds: 10)
            t.poll()
        }
        for _ in 0..<2 {
            t.clock.advance(seconds: 10)
            t.poll()
        }

        var sent: [Int: [String]] = [:]
        for e in t.entries {
            let message = e.record.message
            let stream = try #require(Int(message.dropFirst().prefix { $0 != "-" }), "\(message)")
            sent[stream, default: []].append(message)
            #expect(e.sourceKey.hasPrefix("file:") && FilePosition(e.position ?? "") != nil)
        }
        for (i, s) in streams.enumerated() {
            #expect(sent[i, default: []] == s.lines, "seed \(seed), stream \(i); steps:\n\(history.joined(separator: "\n"))")
        }
    }
}
