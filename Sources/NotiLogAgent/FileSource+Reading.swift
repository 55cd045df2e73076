import NotiLogCore

#if canImport(Glibc)
import Glibc
#endif

/// What one poll shares among the files it reads: the clock reading, the read buffer, the entries so far.
struct ReadContext {
    let source: FileSource
    let time: SyslogTimestamp
    let nanoseconds: Int64
    let multiline: Regex<AnyRegexOutput>?
    let flushAfter: Int64
    let closeAfter: Int64
    let buffer: UnsafeMutableRawBufferPointer
    var entries: [AgentEntry] = []

    static let chunkSize = 64 << 10

    init(source: FileSource, time: SyslogTimestamp, multiline: Regex<AnyRegexOutput>?) {
        self.source = source
        self.time = time
        self.nanoseconds = time.nanosecondsSinceEpoch
        self.multiline = multiline
        self.flushAfter = Self.nanoseconds(source.configuration.multilineFlushAfter)
        self.closeAfter = Self.nanoseconds(source.configuration.rotatedCloseAfter)
        self.buffer = .allocate(byteCount: min(Self.chunkSize, source.configuration.maxBytesPerPoll), alignment: 16)
    }

    func release() { buffer.deallocate() }

    static func nanoseconds(_ d: Duration) -> Int64 {
        d.components.seconds &* 1_000_000_000 &+ d.components.attoseconds / 1_000_000_000
    }
}

/// One open file and where reading it stands. Used only under the source's lock.
final class TrackedFile {
    enum Start {
        /// From byte 0: a file that appeared after the first poll, or the new file of a rotation.
        case beginning
        /// After the last complete line: a file there before the agent first started.
        case end
        /// Where a saved position says, when the file's first bytes still match its fingerprint; else from 0.
        case saved(FilePosition)
    }

    enum Outcome { case open, closed }

    let id: FileID
    let fd: Int32
    /// The path the records name (where the file was first found; a renamed file keeps it).
    let path: String
    let app: String
    let sourceKey: String
    var state = FileStatus.State.following
    /// The byte after the last one read.
    var readOffset: Int64 = 0
    /// The byte after the last one sent: what the positions say.
    var committed: Int64 = 0
    var size: Int64
    var modified: timespec
    /// How many first bytes `fingerprint` covers (grows to 64 as a small file grows).
    var fingerprintBytes = 0
    var fingerprint = FilePosition.hash(UnsafeRawBufferPointer(start: nil, count: 0))
    var assembler: LineAssembler
    var joiner = MultilineJoiner()
    /// When bytes were last read from the file (clock of the source, nanoseconds).
    var lastGrowth: Int64
    var truncations = 0

    init(fd: Int32, stat st: stat, path: String, app: String, start: Start, maxLineBytes: Int, time: Int64) {
        self.id = FileID(st)
        self.fd = fd
        self.path = path
        self.app = app
        self.sourceKey = id.sourceKey
        self.size = Int64(st.st_size)
        self.modified = st.st_mtim
        self.assembler = LineAssembler(cap: maxLineBytes + 1)
        self.lastGrowth = time
        var offset: Int64 = 0
        switch start {
        case .beginning:
            offset = 0
        case .end:
            offset = lastLineStart()
        case .saved(let p):
            offset = p.offset  // checked by `resumes(fd:size:at:)`
        }
        readOffset = offset
        committed = offset
        _ = fingerprintHolds()
    }

    deinit { close(fd) }

    /// Whether a saved position still applies to the open file: its first bytes hash the same (else the inode was
    /// reused by another file) and it is not shorter than the offset (else it was truncated meanwhile).
    static func resumes(fd: Int32, size: Int64, at p: FilePosition) -> Bool {
        let first = readFirst(fd, p.fingerprintBytes)
        return first.count == p.fingerprintBytes && first.withUnsafeBytes { FilePosition.hash($0) } == p.fingerprint
            && p.offset <= size
    }

    var status: FileStatus {
        FileStatus(
            path: path, device: id.device, inode: id.inode, offset: committed, readOffset: readOffset, size: size, state: state,
            truncations: truncations)
    }

    var position: FilePosition {
        FilePosition(offset: committed, fingerprintBytes: fingerprintBytes, fingerprint: fingerprint, path: path)
    }

    /// Reads what is new (at most `maxBytesPerPoll`), sends the complete lines, and closes the file when it is
    /// finished: deleted and read to its end, or renamed away and quiet at its end for `rotatedCloseAfter`.
    func read(_ c: inout ReadContext) -> Outcome {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            finish(&c)
            return .closed
        }
        if st.st_nlink == 0 { state = .deleted }
        let newSize = Int64(st.st_size)
        let changed = newSize != size || st.st_mtim.tv_sec != modified.tv_sec || st.st_mtim.tv_nsec != modified.tv_nsec
        size = newSize
        modified = st.st_mtim
        if changed, newSize < readOffset || !fingerprintHolds() { truncated(&c) }

        var budget = c.source.configuration.maxBytesPerPoll
        var atEnd = false
        while budget > 0 {
            let n = pread(fd, c.buffer.baseAddress, min(c.buffer.count, budget), off_t(readOffset))
            if n < 0, errno == EINTR { continue }
            if n <= 0 {
                atEnd = true  // end of file, or an error (EIO): either way nothing more this poll
                break
            }
            let base = readOffset
            readOffset += Int64(n)
            budget -= n
            lastGrowth = c.nanoseconds
            assembler.feed(UnsafeRawBufferPointer(rebasing: c.buffer[0..<n]), at: base) { bytes, length, end in
                self.line(bytes, length: length, end: end, &c)
            }
        }
        size = max(size, readOffset)
        if joiner.active, c.nanoseconds - joiner.lastAppend >= c.flushAfter { sendJoined(&c) }
        switch state {
        case .deleted where atEnd, .rotated where atEnd && c.nanoseconds - lastGrowth >= c.closeAfter:
            finish(&c)
            return .closed
        default:
            return .open
        }
    }

    /// The file will not grow again: what is held (a last line without "\n", a record being joined) is sent.
    func finish(_ c: inout ReadContext) {
        sendHeld(&c)
        if joiner.active { sendJoined(&c) }
    }

    /// Shorter than what was read, or other first bytes (copytruncate): read again from 0. What was held of the
    /// old contents is sent as it is — the copy holds the same bytes, and the writer carries on in the new ones.
    func truncated(_ c: inout ReadContext) {
        finish(&c)
        truncations += 1
        readOffset = 0
        committed = 0
        fingerprintBytes = 0
        fingerprint = FilePosition.hash(UnsafeRawBufferPointer(start: nil, count: 0))
        _ = fingerprintHolds()
    }

    func sendHeld(_ c: inout ReadContext) {
        let end = readOffset
        assembler.takeHeld { bytes, length in self.line(bytes, length: length, end: end, &c) }
    }

    /// One complete line: sent, or given to the record being joined.
    func line(_ bytes: UnsafeRawBufferPointer, length: Int, end: Int64, _ c: inout ReadContext) {
        guard let regex = c.multiline else {
            send(bytes, length: length, end: end, &c)
            return
        }
        let limit = c.source.configuration.maxLineBytes
        if joiner.active {
            if String(decoding: bytes, as: UTF8.self).contains(regex) {
                sendJoined(&c)
            } else {
                joiner.append(bytes, length: length, limit: limit)
                joiner.end = end
                joiner.lastAppend = c.nanoseconds
                return
            }
        }
        joiner.start(bytes, length: length, limit: limit, end: end, time: c.nanoseconds)
    }

    func sendJoined(_ c: inout ReadContext) {
        let (length, end) = (joiner.length, joiner.end)
        joiner.active = false
        joiner.bytes.withUnsafeBytes { send($0, length: length, end: end, &c) }
        joiner.bytes.removeAll(keepingCapacity: true)
    }

    /// Makes the entry for a line or joined record of `length` bytes of which `bytes` were kept; the position is
    /// the byte after it.
    func send(_ bytes: UnsafeRawBufferPointer, length: Int, end: Int64, _ c: inout ReadContext) {
        let limit = c.source.configuration.maxLineBytes
        var kept = UnsafeRawBufferPointer(rebasing: bytes[0..<min(bytes.count, limit)])
        var problems: [ParseProblem] = []
        if length > kept.count {
            kept = UnsafeRawBufferPointer(rebasing: kept[0..<completeUTF8Prefix(kept)])
            problems.append(
                ParseProblem(field: .message, column: kept.count + 1, reason: "cut at \(kept.count) of \(length) bytes (maxLineBytes \(limit))"))
        }
        committed = end
        let record = c.source.record(kept, problems: problems, app: app, path: path, time: c.time)
        c.entries.append(AgentEntry(record: record, sourceKey: sourceKey, position: position.description))
    }

    // MARK: First bytes

    /// Checks that the file still starts with the bytes fingerprinted and extends the fingerprint to 64 bytes as
    /// the file grows; false when they differ (truncated, or truncated and written again).
    func fingerprintHolds() -> Bool {
        let first = readFirst(FilePosition.fingerprintLength)
        guard first.count >= fingerprintBytes else { return false }
        let same = first.withUnsafeBytes { FilePosition.hash(UnsafeRawBufferPointer(rebasing: $0[0..<fingerprintBytes])) } == fingerprint
        guard same else { return false }
        if first.count > fingerprintBytes {
            fingerprintBytes = first.count
            fingerprint = first.withUnsafeBytes { FilePosition.hash($0) }
        }
        return true
    }

    func readFirst(_ count: Int) -> [UInt8] { Self.readFirst(fd, count) }

    static func readFirst(_ fd: Int32, _ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, count - got, off_t(got)) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        bytes.removeLast(count - got)
        return bytes
    }

    /// The byte after the last "\n" in the file's last 64 KiB, so reading "from the end" never starts within a
    /// line; 0 when a small file has none (its one line is still being written), its size when a long one has none.
    func lastLineStart() -> Int64 {
        let window = Int64(ReadContext.chunkSize)
        let from = max(0, size - window)
        var tail = [UInt8](repeating: 0, count: Int(size - from))
        let n = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(from)) }
        guard n > 0 else { return size }
        if let last = tail[0..<n].lastIndex(of: UInt8(ascii: "\n")) { return from + Int64(last) + 1 }
        return from == 0 ? 0 : size
    }
}

/// Splits bytes into lines at "\n" (a "\r" before it is dropped) and holds an unfinished last line until its
/// end arrives. A line in one chunk is handed on without a copy; a held line keeps only its first `cap` bytes
/// (the rest is cut anyway) but its full length is counted.
struct LineAssembler {
    /// `maxLineBytes + 1`: one byte more than is kept, so a "\r" right after the limit can still be dropped.
    let cap: Int
    var held: [UInt8] = []
    var heldLength = 0
    var lastByte: UInt8 = 0

    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")

    /// Calls `line(bytes, length, end)` for each complete line: `bytes` are its first (up to `cap`) bytes,
    /// `length` its full length without "\r\n", `end` the file offset after its "\n".
    mutating func feed(_ chunk: UnsafeRawBufferPointer, at base: Int64, _ line: (UnsafeRawBufferPointer, Int, Int64) -> Void) {
        guard let p = chunk.baseAddress else { return }
        var start = 0
        while start < chunk.count {
            guard let hit = memchr(p + start, Int32(Self.lf), chunk.count - start) else {
                hold(UnsafeRawBufferPointer(rebasing: chunk[start...]))
                return
            }
            let newline = UnsafeRawPointer(hit) - p
            let end = base + Int64(newline + 1)
            if heldLength == 0 {
                var length = newline - start
                if length > 0, chunk[newline - 1] == Self.cr { length -= 1 }
                line(UnsafeRawBufferPointer(rebasing: chunk[start..<(start + min(length, cap))]), length, end)
            } else {
                hold(UnsafeRawBufferPointer(rebasing: chunk[start..<newline]))
                takeHeld { line($0, $1, end) }
            }
            start = newline + 1
        }
    }

    mutating func hold(_ bytes: UnsafeRawBufferPointer) {
        guard let last = bytes.last else { return }
        let room = cap - held.count
        if room > 0 { held.append(contentsOf: bytes.prefix(room)) }
        heldLength += bytes.count
        lastByte = last
    }

    /// Hands on the held line (if any) and forgets it.
    mutating func takeHeld(_ line: (UnsafeRawBufferPointer, Int) -> Void) {
        guard heldLength > 0 else { return }
        var length = heldLength
        if lastByte == Self.cr {
            if held.count == heldLength { held.removeLast() }
            length -= 1
        }
        held.withUnsafeBytes { line($0, length) }
        held.removeAll(keepingCapacity: true)
        heldLength = 0
    }
}

/// A multi-line record being joined: its first `maxLineBytes` bytes, its full length, and where it ends.
struct MultilineJoiner {
    var active = false
    var bytes: [UInt8] = []
    var length = 0
    var end: Int64 = 0
    var lastAppend: Int64 = 0

    mutating func start(_ line: UnsafeRawBufferPointer, length: Int, limit: Int, end: Int64, time: Int64) {
        active = true
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: line.prefix(limit))
        self.length = length
        self.end = end
        lastAppend = time
    }

    mutating func append(_ line: UnsafeRawBufferPointer, length: Int, limit: Int) {
        if bytes.count < limit { bytes.append(LineAssembler.lf) }
        if bytes.count < limit { bytes.append(contentsOf: line.prefix(limit - bytes.count)) }
        self.length += 1 + length
    }
}

/// The length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence (a cut may fall in one).
func completeUTF8Prefix(_ bytes: UnsafeRawBufferPointer) -> Int {
    var i = bytes.count
    var back = 0
    while i > 0, back < 4 {
        let b = bytes[i - 1]
        if b & 0xC0 == 0x80 {
            i -= 1
            back += 1
            continue
        }
        let need = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
        return need > back + 1 ? i - 1 : bytes.count
    }
    return bytes.count
}
