import Foundation
import NotiLogCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Tails the files that glob patterns match and turns their lines into records.
///
/// A file is known by device and inode, not by path, so a rename does not make it look new and a new file at an
/// old path does not look old. Because inodes are reused (delete a file, create another: often the same number),
/// the position also keeps a fingerprint of the file's first bytes and a position is only resumed when they
/// still match.
///
/// * rename + create rotation: the renamed file keeps its open descriptor and is read to its end (the writer may
///   still append until it reopens), then closed once it has been quiet for `rotatedCloseAfter`; the new file at
///   the path is read from its start. A renamed file that still matches a pattern simply stays followed.
/// * copytruncate and other truncation: a file shorter than what was read, or whose first bytes changed, is read
///   again from its start (counted in `status`).
/// * a file deleted while being read is read to its end through the descriptor still open, then closed.
///
/// Positions go out with the entries (`AgentEntry.position`, see `FilePosition`) and come back in through
/// `init(positions:)` after the server acknowledged them; a line not yet complete, or a multi-line record still
/// being joined, is never counted in them, so a restart reads it again instead of losing or halving it.
///
/// Thread-safe: `poll()` and `status` may be called from any thread; a poll holds the source's lock for its
/// whole run (bounded by `maxBytesPerPoll` per file), so `status` waits at most for one poll.
public final class FileSource: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Glob patterns (glob(3)), e.g. `/var/log/nginx/*.log`. Only regular files are read.
        public var paths: [String]
        /// Patterns (fnmatch(3), `*` also matching `/`) tested against the whole path, and against the base name
        /// when the pattern has no `/`: `*.gz` leaves out compressed rotations anywhere.
        public var exclude: [String]
        /// APP-NAME of the records; default: the file's base name without its extension.
        public var app: String?
        public var facility: Facility
        public var severity: Severity
        /// A regular expression (Swift `Regex` syntax, searched anywhere in the line; anchor it with `^`): a line
        /// it matches starts a record, other lines are appended to the record before them (joined with "\n").
        public var multilineStart: String?
        /// Longer lines (and joined records) are cut to this many bytes, and the record says so in `problems`.
        public var maxLineBytes: Int
        /// Files already there at the first start, with no saved position: read from their start (true) or only
        /// what is written from now on (false).
        public var readExistingFromStart: Bool
        /// A joined record is sent when the next start line arrives, or after this long with nothing added.
        public var multilineFlushAfter: Duration
        /// A renamed-away file (not matching the patterns any more) is closed after it has been at its end for
        /// this long: a writer keeps appending to it until it reopens its log.
        public var rotatedCloseAfter: Duration
        /// At most this many bytes are read from one file in one poll, so one huge file does not starve others.
        public var maxBytesPerPoll: Int

        public init(
            paths: [String], exclude: [String] = [], app: String? = nil, facility: Facility = .user, severity: Severity = .info,
            multilineStart: String? = nil, maxLineBytes: Int = 65_536, readExistingFromStart: Bool = false,
            multilineFlushAfter: Duration = .seconds(1), rotatedCloseAfter: Duration = .seconds(5), maxBytesPerPoll: Int = 4 << 20
        ) {
            self.paths = paths
            self.exclude = exclude
            self.app = app
            self.facility = facility
            self.severity = severity
            self.multilineStart = multilineStart
            self.maxLineBytes = maxLineBytes
            self.readExistingFromStart = readExistingFromStart
            self.multilineFlushAfter = multilineFlushAfter
            self.rotatedCloseAfter = rotatedCloseAfter
            self.maxBytesPerPoll = maxBytesPerPoll
        }

        /// Checks what `FileSource.init` would refuse (for `notilog-agent validate`).
        public func validate() throws(FileSourceError) {
            if paths.isEmpty { throw FileSourceError("a file source needs at least one path pattern") }
            if maxLineBytes < 1 { throw FileSourceError("maxLineBytes must be at least 1") }
            if maxBytesPerPoll < 1 { throw FileSourceError("maxBytesPerPoll must be at least 1") }
            if let pattern = multilineStart {
                do { _ = try Regex(pattern) } catch {
                    throw FileSourceError("multilineStart is not a regular expression: \(pattern): \(error)")
                }
            }
        }
    }

    public let configuration: Configuration
    public let hostname: String
    let now: @Sendable () -> SyslogTimestamp
    /// Used only for lines that are not UTF-8 (see `FileSource+Records.swift`).
    let parser = SyslogParser()

    struct State {
        var files: [FileID: TrackedFile] = [:]
        var polled = false
        /// The positions given at start, for the first poll.
        var saved: [FileID: FilePosition]
        /// Compiled `multilineStart` (a `Regex` is not `Sendable`, so it lives behind the lock with the files).
        var multiline: Regex<AnyRegexOutput>?
    }
    let state: Mutex<State>

    /// - Parameter positions: what the agent saved (other sources' keys are ignored).
    /// - Throws: `FileSourceError` when the configuration does not validate.
    public init(
        configuration: Configuration, hostname: String, positions: SourcePositions,
        now: @escaping @Sendable () -> SyslogTimestamp = { .now() }
    ) throws(FileSourceError) {
        try configuration.validate()
        self.configuration = configuration
        self.hostname = hostname
        self.now = now
        var saved: [FileID: FilePosition] = [:]
        for (key, value) in positions {
            if let id = FileID(sourceKey: key), let position = FilePosition(value) { saved[id] = position }
        }
        let regex = configuration.multilineStart.flatMap { try? Regex($0) }
        state = Mutex(State(saved: saved, multiline: regex))
    }

    /// Finds new, rotated, truncated and deleted files and reads what is new, returning entries in file order:
    /// renamed-away and deleted files first (their lines were written before those of a file now at their
    /// path), then the others by path.
    public func poll() -> [AgentEntry] {
        let time = now()
        return state.withLock { s in
            var context = ReadContext(source: self, time: time, multiline: s.multiline)
            defer { context.release() }
            let found = discover()
            if !s.polled {
                restore(&s, found: found, time: context.nanoseconds)
                s.polled = true
            } else {
                for f in found where s.files[f.id] == nil {
                    if let file = open(f, start: .beginning, time: context.nanoseconds) { s.files[file.id] = file }
                }
            }
            let matched = Set(found.map(\.id))
            for file in s.files.values where !matched.contains(file.id) && file.state == .following {
                file.state = .rotated
            }
            for file in s.files.values where matched.contains(file.id) && file.state == .rotated {
                file.state = .following  // renamed back under a pattern
            }
            let order = s.files.values.sorted { a, b in
                if (a.state == .following) != (b.state == .following) { return a.state != .following }
                return (a.path, a.id.inode) < (b.path, b.id.inode)
            }
            for file in order where file.read(&context) == .closed {
                s.files[file.id] = nil
            }
            return context.entries
        }
    }

    /// Per-file status for `notilog-agent status`, by path.
    public var status: [FileStatus] {
        state.withLock { s in
            s.files.values.map(\.status).sorted { ($0.path, $0.inode) < ($1.path, $1.inode) }
        }
    }

    // MARK: Finding files

    struct Found {
        var path: String
        var id: FileID
    }

    /// Every regular file the patterns match and the exclusions do not, once per device and inode.
    func discover() -> [Found] {
        var seen = Set<FileID>()
        var result: [Found] = []
        for pattern in configuration.paths {
            for path in Self.glob(pattern) where !isExcluded(path) {
                var st = stat()
                guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
                let id = FileID(st)
                if seen.insert(id).inserted { result.append(Found(path: path, id: id)) }
            }
        }
        return result
    }

    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }  // GLOB_NOMATCH, or an unreadable directory
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }
    }

    func isExcluded(_ path: String) -> Bool {
        let base = Self.baseName(path)
        return configuration.exclude.contains { pattern in
            fnmatch(pattern, path, 0) == 0 || (!pattern.contains("/") && fnmatch(pattern, base, 0) == 0)
        }
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }

    /// The first poll: files with a saved position resume there (when their first bytes still match); a file at
    /// a path a saved position names but with another inode is the new file of a rotation made while the agent
    /// was away, read from its start; so is any other file when the agent has positions saved from an earlier run
    /// (it appeared while the agent was away: nothing of it was read). Only at the very first start (no saved
    /// positions) do existing files follow `readExistingFromStart`. A saved file that no longer
    /// matches is looked for in its old directory (renamed by a rotation) and finished; if it is gone, its
    /// position is dropped.
    func restore(_ s: inout State, found: [Found], time: Int64) {
        for f in found where s.files[f.id] == nil {
            let start: TrackedFile.Start
            if let position = s.saved[f.id] {
                start = .saved(position)
            } else if !s.saved.isEmpty || configuration.readExistingFromStart {
                start = .beginning
            } else {
                start = .end
            }
            if let file = open(f, start: start, time: time) { s.files[file.id] = file }
        }
        let matched = Set(found.map(\.id))
        for (id, position) in s.saved.sorted(by: { $0.value.path < $1.value.path }) where !matched.contains(id) {
            guard let path = Self.find(id, near: position.path),
                let file = open(Found(path: path, id: id), start: .saved(position), time: time, onlyToResume: true)
            else { continue }
            file.state = .rotated
            s.files[id] = file
        }
        s.saved = [:]
    }

    /// The path of the file `id` in the directory of `path` (where a rotation renames it), if it is still there.
    static func find(_ id: FileID, near path: String) -> String? {
        let directory = PathText.directory(of: path)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? [] {
            let candidate = directory + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFREG, FileID(st) == id { return candidate }
        }
        return nil
    }

    /// Opens a file and decides where reading starts. The identity is taken from the open descriptor, so a file
    /// replaced between `stat` and `open` is known by what was opened (and read from its start).
    /// - Parameter onlyToResume: nil unless the saved position applies (a file found by inode outside the
    ///   patterns is only of interest when it is the one the position was saved for).
    func open(_ f: Found, start: TrackedFile.Start, time: Int64, onlyToResume: Bool = false) -> TrackedFile? {
        // O_NONBLOCK: should the path have become a FIFO since `stat`, opening it must not wait for a writer.
        let fd = Glibc.open(f.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return nil
        }
        var start = start
        var path = f.path
        if case .saved(let p) = start {
            if FileID(st) == f.id, TrackedFile.resumes(fd: fd, size: Int64(st.st_size), at: p) {
                path = p.path  // the records go on naming the path the file was first read at
            } else if onlyToResume {
                close(fd)
                return nil
            } else {
                start = .beginning  // another file (inode reused), or truncated while the agent was away
            }
        }
        let app = configuration.app ?? Self.appName(fromPath: path)
        return TrackedFile(fd: fd, stat: st, path: path, app: app, start: start, maxLineBytes: configuration.maxLineBytes, time: time)
    }

    /// `nginx-access.log` → `nginx-access`; `syslog` → `syslog`; `.hidden` → `.hidden`.
    static func appName(fromPath path: String) -> String {
        let base = baseName(path)
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return base }
        return String(base[..<dot])
    }
}

/// A file's identity: device and inode.
struct FileID: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    init(_ st: stat) {
        self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// Reads `file:DEV:INODE`.
    init?(sourceKey: String) {
        let parts = sourceKey.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "file", let d = UInt64(parts[1]), let i = UInt64(parts[2]) else { return nil }
        self.init(device: d, inode: i)
    }

    var sourceKey: String { "file:\(device):\(inode)" }
}

/// Where a file source stands in one file: the string in `AgentEntry.position` and `SourcePositions`.
///
/// Form: `1:OFFSET:COUNT:HASH:PATH` — format version 1; OFFSET, the byte after the last one sent (decimal);
/// COUNT, how many of the file's first bytes the fingerprint covers (0...64, decimal); HASH, their 64-bit
/// FNV-1a hash (16 lower-case hex digits); PATH, the path the records name (last, so it may hold `:`).
/// Example: `1:5120:64:a3f2b0c4d5e6f708:/var/log/nginx/access.log`.
public struct FilePosition: Sendable, Hashable, LosslessStringConvertible {
    public var offset: Int64
    public var fingerprintBytes: Int
    public var fingerprint: UInt64
    public var path: String

    /// How many first bytes a fingerprint covers at most.
    public static let fingerprintLength = 64

    public init(offset: Int64, fingerprintBytes: Int, fingerprint: UInt64, path: String) {
        self.offset = offset
        self.fingerprintBytes = fingerprintBytes
        self.fingerprint = fingerprint
        self.path = path
    }

    public init?(_ description: String) {
        let parts = description.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "1", let offset = Int64(parts[1]), offset >= 0, let count = Int(parts[2]),
            (0...Self.fingerprintLength).contains(count), parts[3].count == 16, let hash = UInt64(parts[3], radix: 16)
        else { return nil }
        self.init(offset: offset, fingerprintBytes: count, fingerprint: hash, path: String(parts[4]))
    }

    public var description: String {
        let hex = String(fingerprint, radix: 16)
        return "1:\(offset):\(fingerprintBytes):\(String(repeating: "0", count: 16 - hex.count))\(hex):\(path)"
    }

    /// FNV-1a, 64 bits: enough to tell two files' first lines apart, and written here because it is five lines.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }
}

/// One followed file, for `notilog-agent status`.
public struct FileStatus: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// Matched by the patterns and read as it grows.
        case following
        /// Renamed so that no pattern matches it: read to its end, then closed.
        case rotated
        /// Deleted: read to its end through the open descriptor, then closed.
        case deleted
    }

    /// The path the records name (where the file was found; a rotated file keeps its old path).
    public var path: String
    public var device: UInt64
    public var inode: UInt64
    /// The byte after the last one sent (what a restart would resume from).
    public var offset: Int64
    /// The byte after the last one read: beyond `offset` by a line not yet complete or a record being joined.
    public var readOffset: Int64
    /// The size at the last poll.
    public var size: Int64
    public var state: State
    /// How often the file was found truncated (copytruncate) and read again from its start.
    public var truncations: Int

    /// `DEV:INODE`.
    public var identity: String { "\(device):\(inode)" }
}

public struct FileSourceError: Error, CustomStringConvertible, Hashable {
    public var description: String
    init(_ description: String) { self.description = description }
}
