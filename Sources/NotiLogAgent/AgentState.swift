import Foundation
import NotiLogCore
import Synchronization

/// What the server has acknowledged: the last batch sequence and every source's position after it, saved in
/// `STATE-DIR/state.json` atomically (temporary file, fsync, rename, fsync of the directory) after each
/// acknowledgement — never before. With the spool (which holds what is beyond), a restart resumes exactly.
public final class AgentState: Sendable {
    struct Saved: Codable, Equatable {
        var agentID: String
        var lastAcknowledged: UInt64
        var acknowledgedAt: Int64?
        var positions: SourcePositions

        enum CodingKeys: String, CodingKey {
            case agentID = "agent_id"
            case lastAcknowledged = "last_acknowledged_batch"
            case acknowledgedAt = "acknowledged_at_ns"
            case positions
        }
    }

    public let path: String
    private let saved: Mutex<Saved>

    /// Reads the state file (a missing one is a first start). An unreadable file is an error: starting from
    /// nothing would resend or skip, so the operator decides (the message says which file).
    public init(directory: String, agentID: String) throws {
        path = directory + "/state.json"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let data = FileManager.default.contents(atPath: path) {
            do {
                var s = try JSONDecoder().decode(Saved.self, from: data)
                s.agentID = agentID
                saved = Mutex(s)
            } catch {
                throw SpoolError("\(path) cannot be read (\(error)); move it away to start afresh (sources then start from their configured start)")
            }
        } else {
            saved = Mutex(Saved(agentID: agentID, lastAcknowledged: 0, acknowledgedAt: nil, positions: [:]))
        }
    }

    public var lastAcknowledged: UInt64 { saved.withLock { $0.lastAcknowledged } }
    public var acknowledgedAt: Int64? { saved.withLock { $0.acknowledgedAt } }
    public var positions: SourcePositions { saved.withLock { $0.positions } }

    /// Takes an acknowledged batch's positions and saves the state durably.
    public func acknowledge(sequence: UInt64, positions: SourcePositions, at now: Int64) throws {
        let snapshot = saved.withLock { s -> Saved in
            s.lastAcknowledged = max(s.lastAcknowledged, sequence)
            s.acknowledgedAt = now
            s.positions.merge(positions) { _, new in new }
            return s
        }
        let data = try JSONEncoder.sorted.encode(snapshot)
        let directory = PathText.directory(of: path)
        let temporary = path + ".tmp"
        try Spool.writeDurably(Array(data), to: temporary)
        guard rename(temporary, path) == 0 else { throw SpoolError("cannot rename \(temporary): \(String(cString: strerror(errno)))") }
        Spool.syncDirectory(directory)
    }
}
