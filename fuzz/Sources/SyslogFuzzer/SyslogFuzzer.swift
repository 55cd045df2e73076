import Foundation

/// libFuzzer entry point: frames the input (auto-detected framing, small maximum frame size), parses every
/// frame and the whole input, writes each record as RFC 5424 and JSON and reads it back, and aborts when
/// an invariant of `SyslogFuzzInvariants` breaks. Crashes inside NotiLogCore abort on their own.
@_cdecl("LLVMFuzzerTestOneInput")
public func syslogFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    let violations = SyslogFuzzInvariants.violations(in: input)
    if !violations.isEmpty {
        var report = "SyslogFuzzer: invariant broken for input (\(size) bytes) "
        report += input.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
        for violation in violations { report += "\n  - " + violation }
        FileHandle.standardError.write(Data((report + "\n").utf8))
        abort()
    }
    return 0
}
