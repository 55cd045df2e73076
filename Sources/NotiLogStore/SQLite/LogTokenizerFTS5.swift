import GRDB
import NotiLogCore

/// NotiLog's `LogTokenizer` as an FTS5 tokenizer (`tokenize='notilog'`), so the full-text index and the
/// in-memory matcher read a message into the same words.
final class LogTokenizerFTS5: FTS5CustomTokenizer {
    static let name = "notilog"

    init(db: Database, arguments: [String]) throws {}

    func tokenize(
        context: UnsafeMutableRawPointer?, tokenization: FTS5Tokenization, pText: UnsafePointer<CChar>?, nText: CInt,
        tokenCallback: FTS5TokenCallback
    ) -> CInt {
        guard let pText, nText > 0 else { return 0 }  // SQLITE_OK
        var result: CInt = 0
        pText.withMemoryRebound(to: UInt8.self, capacity: Int(nText)) { bytes in
            LogTokenizer.forEachToken(in: UnsafeBufferPointer(start: bytes, count: Int(nText))) { token, range in
                guard result == 0 else { return }
                token.withMemoryRebound(to: CChar.self) { t in
                    result = tokenCallback(context, 0, t.baseAddress, CInt(t.count), CInt(range.lowerBound), CInt(range.upperBound))
                }
            }
        }
        return result
    }
}
