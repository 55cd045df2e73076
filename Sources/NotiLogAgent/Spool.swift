import Foundation
import Synchronization

/// The agent's on-disk queue of batches on their way to the server: every batch is written here first (one
/// file per batch, checksummed, fsync'd, renamed into place), sent from here oldest first, and deleted when the
/// server has acknowledged it. So a batch survives an agent crash, a reboot and a server outage alike.
///
/// Bounded: when the segments together pass `maxBytes`, the oldest are deleted (never the newest) and what they
/// held is counted (`takeDropped()`), so the agent can tell the server once the link is back. A segment that fails
/// its checksum or cannot be read is moved to `quarantine/` and counted, never retried in a loop.
///
/// Segment file `SEQUENCE.seg` (little-endian):
///
///     "NLSPOOL1"  u64 sequence  u32 records  u64 first-record time (ns)  u32 positions-length  positions (JSON)
///     u32 payload-length  payload (octet-counted RFC 5424 frames, the ingest body)  u32 CRC-32 of all before
public final class Spool: Sendable {
    public struct Segment: Sendable, Hashable {
        public var sequence: UInt64
        public var records: Int
        /// Event time of the batch's first record (nanoseconds since the epoch), for reports of what was dropped.
        public var firstTime: Int64
        /// The newest position of every source in the batch.
        public var positions: SourcePositions
        public var payload: [UInt8]
    }

    /// What was lost: dropped (spool full) or quarantined (corrupt) since the last `takeDropped()`.
    public struct Losses: Sendable, Hashable {
        public var droppedRecords = 0
        public var droppedSegments = 0
        public var quarantinedSegments = 0
        public var oldestDropped: Int64?
        public var newestDropped: Int64?

        public var isEmpty: Bool { droppedSegments == 0 && quarantinedSegments == 0 }
    }

    public struct Figures: Sendable, Hashable {
        public var segments: Int
        public var bytes: Int64
        public var oldestSequence: UInt64?
        public var newestSequence: UInt64?
    }

    public let directory: String
    public let maxBytes: Int64
    private struct State {
        /// sequence → file size, ascending.
        var segments: [(sequence: UInt64, bytes: Int64)] = []
        var bytes: Int64 = 0
        var losses = Losses()
        /// Every loss since the spool was opened (never reset; the agent's metrics).
        var lossesSinceOpen = Losses()
        /// The newest positions written (for sources resuming after a restart).
        var newestPositions: SourcePositions = [:]
    }
    private let state = Mutex(State())
    static let magic: [UInt8] = Array("NLSPOOL1".utf8)

    /// Opens (creating) the spool in `directory` and checks what is there: unreadable segments are quarantined.
    public init(directory: String, maxBytes: Int64) throws {
        self.directory = directory
        self.maxBytes = maxBytes
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var found: [(UInt64, Int64)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let path = directory + "/" + name
            if name.hasPrefix("tmp-") {
                // A write that did not finish: it was never renamed into place, so never counted as spooled.
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            guard name.hasSuffix(".seg"), let seq = UInt64(name.dropLast(4)) else { continue }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
            found.append((seq, size ?? 0))
        }
        found.sort { $0.0 < $1.0 }
        var s = State()
        s.segments = found.map { (sequence: $0.0, bytes: $0.1) }
        s.bytes = found.reduce(0) { $0 + $1.1 }
        // The newest readable segment says where the sources stand beyond what the server acknowledged.
        for (seq, _) in found.reversed() {
            if let segment = try? Self.read(path: Self.path(directory, seq)) {
                s.newestPositions = segment.positions
                break
            }
        }
        state.withLock { $0 = s }
    }

    static func path(_ directory: String, _ sequence: UInt64) -> String {
        // Zero-padded by hand: no Foundation formatter for every batch written and sent.
        let digits = String(sequence)
        return directory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".seg"
    }

    public var figures: Figures {
        state.withLock { s in
            Figures(segments: s.segments.count, bytes: s.bytes, oldestSequence: s.segments.first?.sequence, newestSequence: s.segments.last?.sequence)
        }
    }

    /// The positions of the newest batch spooled (empty when the spool was empty at start and nothing was added).
    public var newestPositions: SourcePositions { state.withLock { $0.newestPositions } }

    /// The highest sequence in the spool.
    public var newestSequence: UInt64? { state.withLock { $0.segments.last?.sequence } }

    /// Writes a batch durably (temporary file, fsync, rename, fsync of the directory), then drops the oldest
    /// segments while the spool is over its bound.
    public func append(_ segment: Segment) throws {
        let bytes = Self.encode(segment)
        let final = Self.path(directory, segment.sequence)
        let temporary = directory + "/tmp-\(segment.sequence)"
        try Self.writeDurably(bytes, to: temporary)
        guard rename(temporary, final) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw SpoolError("cannot rename \(temporary) to \(final): \(message)")
        }
        Self.syncDirectory(directory)
        var victims: [UInt64] = []
        state.withLock { s in
            s.segments.append((segment.sequence, Int64(bytes.count)))
            s.bytes += Int64(bytes.count)
            s.newestPositions = segment.positions
            while s.bytes > maxBytes, s.segments.count > 1 {
                let oldest = s.segments.removeFirst()
                s.bytes -= oldest.bytes
                victims.append(oldest.sequence)
            }
        }
        for seq in victims {
            let path = Self.path(directory, seq)
            // Read the header for the count and times (the file is small next to the bound; dropping is rare).
            let dropped = try? Self.read(path: path)
            unlink(path)
            state.withLock { s in
                s.losses.droppedSegments += 1
                s.losses.droppedRecords += dropped?.records ?? 0
                s.lossesSinceOpen.droppedSegments += 1
                s.lossesSinceOpen.droppedRecords += dropped?.records ?? 0
                if let t = dropped?.firstTime {
                    s.losses.oldestDropped = min(s.losses.oldestDropped ?? t, t)
                    s.losses.newestDropped = max(s.losses.newestDropped ?? t, t)
                }
            }
        }
    }

    /// The oldest segment, read and checked; corrupt ones on the way are quarantined. Nil when empty.
    public func oldest() -> Segment? {
        while let seq = state.withLock({ $0.segments.first?.sequence }) {
            let path = Self.path(directory, seq)
            do {
                return try Self.read(path: path)
            } catch {
                quarantine(seq, path)
            }
        }
        return nil
    }

    /// Removes an acknowledged segment.
    public func remove(_ sequence: UInt64) {
        unlink(Self.path(directory, sequence))
        state.withLock { s in
            if let i = s.segments.firstIndex(where: { $0.sequence == sequence }) {
                s.bytes -= s.segments[i].bytes
                s.segments.remove(at: i)
            }
        }
    }

    /// Moves a segment the server refused for good (or that cannot be read) aside, and counts it.
    public func quarantine(_ sequence: UInt64) {
        quarantine(sequence, Self.path(directory, sequence))
    }

    private func quarantine(_ sequence: UInt64, _ path: String) {
        let dir = directory + "/quarantine"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if rename(path, dir + "/" + (path as NSString).lastPathComponent) != 0 { unlink(path) }
        state.withLock { s in
            if let i = s.segments.firstIndex(where: { $0.sequence == sequence }) {
                s.bytes -= s.segments[i].bytes
                s.segments.remove(at: i)
            }
            s.losses.quarantinedSegments += 1
            s.lossesSinceOpen.quarantinedSegments += 1
        }
    }

    /// Everything dropped and quarantined since the spool was opened (`takeDropped()` does not reset it).
    public var lossesSinceOpen: Losses { state.withLock { $0.lossesSinceOpen } }

    /// What was lost since the last call (and resets the count).
    public func takeDropped() -> Losses {
        state.withLock { s in
            let l = s.losses
            s.losses = Losses()
            return l
        }
    }

    // MARK: Format

    static func encode(_ s: Segment) -> [UInt8] {
        let positions = (try? JSONEncoder.sorted.encode(s.positions)).map { Array($0) } ?? Array("{}".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(48 + positions.count + s.payload.count)
        out += magic
        put(&out, s.sequence)
        put(&out, UInt32(s.records))
        put(&out, UInt64(bitPattern: s.firstTime))
        put(&out, UInt32(positions.count))
        out += positions
        put(&out, UInt32(s.payload.count))
        out += s.payload
        put(&out, CRC32.checksum(out))
        return out
    }

    static func decode(_ bytes: [UInt8]) throws -> Segment {
        var r = Reader(bytes: bytes)
        guard bytes.count >= magic.count + 4, Array(bytes[0..<magic.count]) == magic else { throw SpoolError("not a spool segment") }
        let body = bytes.count - 4
        let stored = bytes[body..<bytes.count].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }.littleEndian
        guard bytes.withUnsafeBytes({ CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<body])) }) == stored else {
            throw SpoolError("checksum mismatch")
        }
        r.offset = magic.count
        let sequence: UInt64 = try r.take()
        let records: UInt32 = try r.take()
        let firstTime: UInt64 = try r.take()
        let positionsLength: UInt32 = try r.take()
        let positionsBytes = try r.bytes(Int(positionsLength))
        let payloadLength: UInt32 = try r.take()
        let payload = try r.bytes(Int(payloadLength))
        guard r.offset == body else { throw SpoolError("length mismatch") }
        let positions = try JSONDecoder().decode(SourcePositions.self, from: Data(positionsBytes))
        return Segment(sequence: sequence, records: Int(records), firstTime: Int64(bitPattern: firstTime), positions: positions, payload: payload)
    }

    static func read(path: String) throws -> Segment {
        guard let data = FileManager.default.contents(atPath: path) else { throw SpoolError("cannot read \(path)") }
        return try decode(Array(data))
    }

    private static func put<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    private struct Reader {
        var bytes: [UInt8]
        var offset = 0

        mutating func take<T: FixedWidthInteger>() throws -> T {
            let size = MemoryLayout<T>.size
            guard offset + size <= bytes.count else { throw SpoolError("truncated") }
            let v = bytes[offset..<(offset + size)].withUnsafeBytes { $0.loadUnaligned(as: T.self) }
            offset += size
            return T(littleEndian: v)
        }

        mutating func bytes(_ n: Int) throws -> [UInt8] {
            guard n >= 0, offset + n <= bytes.count else { throw SpoolError("truncated") }
            defer { offset += n }
            return Array(bytes[offset..<(offset + n)])
        }
    }

    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SpoolError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = 0
        try bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SpoolError("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                written += n
            }
        }
        guard fsync(fd) == 0 else { throw SpoolError("cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }

    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}

public struct SpoolError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension JSONEncoder {
    /// Keys sorted: the same positions always encode to the same bytes.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
