import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reading processes from a proc file system (`/proc`, or a tree of the same shape in tests).
struct ProcTable {
    /// One process: its PID, its name (`comm`) and, when asked for, its command line (arguments joined by spaces,
    /// as `pgrep -f` matches it; empty for kernel threads and zombies).
    struct Entry: Sendable, Hashable {
        var pid: Int32
        var comm: String
        var commandLine: String?
    }

    let root: String
    /// The agent itself, left out as `pgrep` leaves itself out (a pattern could match the agent's own arguments).
    let ownPID: Int32?

    init(root: String) {
        self.root = root
        ownPID = root == "/proc" ? getpid() : nil
    }

    /// Every process now; zombies included (`isAlive` tells them apart, only for the few that match).
    func scan(commandLines: Bool) -> [Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        var out: [Entry] = []
        out.reserveCapacity(names.count)
        for name in names {
            guard let pid = Int32(name), pid > 0, pid != ownPID else { continue }
            // A process that ended between the listing and the read is simply not there.
            guard let comm = Self.readText("\(root)/\(name)/comm", limit: 64) else { continue }
            var entry = Entry(pid: pid, comm: Self.trimmingNewline(comm))
            if commandLines, let bytes = Self.readBytes("\(root)/\(name)/cmdline", limit: 65536) {
                var args = bytes
                while args.last == 0 { args.removeLast() }
                entry.commandLine = String(decoding: args.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
            }
            out.append(entry)
        }
        return out
    }

    /// The process exists and is not a zombie (a zombie has ended; only its parent has yet to reap it). Without
    /// a `stat` file (a test's tree) a process that has a directory is alive.
    func isAlive(_ pid: Int32) -> Bool {
        guard let stat = Self.readText("\(root)/\(pid)/stat", limit: 4096) else {
            return FileManager.default.fileExists(atPath: "\(root)/\(pid)")
        }
        return Self.statFields(stat).first != "Z"
    }

    /// How a zombie ended: field 52 of `stat` (`exit_code`, Linux 3.5+), a `waitpid` status. The kernel shows 0
    /// to readers that may not trace the process, so 0 means "unknown", never "clean".
    func exitStatus(_ pid: Int32) -> ExitStatus? {
        guard let stat = Self.readText("\(root)/\(pid)/stat", limit: 4096) else { return nil }
        let fields = Self.statFields(stat)
        guard fields.first == "Z", fields.count > 49, let status = Int32(fields[49]) else { return nil }
        return ExitStatus(waitStatus: status)
    }

    /// The PID a pidfile names; nil when it is missing or holds no PID.
    static func pid(inPidfile path: String) -> Int32? {
        guard let text = readText(path, limit: 64) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)).flatMap { $0 > 0 ? $0 : nil }
    }

    /// `stat`'s fields after `(comm)` (which may hold spaces and parentheses): index 0 is field 3, the state.
    static func statFields(_ stat: String) -> [Substring] {
        guard let close = stat.lastIndex(of: ")") else { return [] }
        return stat[stat.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
    }

    static func trimmingNewline(_ s: String) -> String {
        s.hasSuffix("\n") ? String(s.dropLast()) : s
    }

    static func readText(_ path: String, limit: Int) -> String? {
        readBytes(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Up to `limit` bytes; proc files have no size to ask for, so this reads until the end.
    static func readBytes(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(limit, 4096))
        while out.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, limit - out.count)) }
            if n < 0, errno == EINTR { continue }
            // A process that ended while being read gives ESRCH: what was read so far is nothing to go on.
            if n < 0 { return nil }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}
