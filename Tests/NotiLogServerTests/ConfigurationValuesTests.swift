import Testing

@testable import NotiLogServer

@Suite("Configuration values")
struct ConfigurationValuesTests {
    static let durationTable: [(String, Duration)] = [
        ("200ms", .milliseconds(200)),
        ("30s", .seconds(30)),
        ("15m", .seconds(15 * 60)),
        ("24h", .seconds(24 * 3600)),
        ("30d", .seconds(30 * 86_400)),
        ("2w", .seconds(14 * 86_400)),
        ("1h30m", .seconds(5_400)),
        ("1m500ms", .milliseconds(60_500)),
        ("0", .zero),
        ("0s", .zero),
        (" 45S ", .seconds(45)),
    ]

    @Test(arguments: durationTable)
    func durations(text: String, expected: Duration) {
        #expect(ConfigurationValues.duration(text) == expected)
    }

    @Test(arguments: ["30x", "", "s", "1.5h", "-5s", "10 s", "10", "5 m", "1h 30m", "ms", "99999999999999s"])
    func notDurations(text: String) {
        #expect(ConfigurationValues.duration(text) == nil)
    }

    static let sizeTable: [(String, Int64)] = [
        ("65536", 65_536),
        ("0", 0),
        ("100B", 100),
        ("64KB", 65_536),
        ("64k", 65_536),
        ("512MB", 512 << 20),
        ("20GB", 20 << 30),
        ("20gb", 20 << 30),
        ("1 GiB", 1 << 30),
        ("2TB", 2 << 40),
    ]

    @Test(arguments: sizeTable)
    func sizes(text: String, expected: Int64) {
        #expect(ConfigurationValues.byteSize(text) == expected)
    }

    @Test(arguments: ["20XB", "GB", "-1", "1.5GB", "", "lots", "99999999999TB"])
    func notSizes(text: String) {
        #expect(ConfigurationValues.byteSize(text) == nil)
    }

    static let durationTextTable: [(Duration, String)] = [
        (.milliseconds(200), "200ms"), (.seconds(30), "30s"), (.seconds(900), "15m"), (.seconds(86_400), "1d"),
        (.seconds(30 * 86_400), "30d"), (.seconds(90), "90s"),
    ]

    @Test(arguments: durationTextTable)
    func durationText(duration: Duration, expected: String) {
        #expect(ConfigurationValues.text(duration) == expected)
    }

    static let hostPortTable: [(String, String, Int)] = [
        ("0.0.0.0:514", "0.0.0.0", 514),
        ("[::]:514", "::", 514),
        ("[::1]:6514", "::1", 6514),
        ("[2001:db8::7]:0", "2001:db8::7", 0),
        ("localhost:5514", "localhost", 5514),
        ("127.0.0.1:65535", "127.0.0.1", 65_535),
    ]

    @Test(arguments: hostPortTable)
    func hostPorts(text: String, host: String, port: Int) throws {
        let hp = try #require(HostPort(text))
        #expect(hp.host == host)
        #expect(hp.port == port)
        #expect(HostPort(hp.description) == hp)
    }

    @Test(arguments: ["0.0.0.0", "::1:514", "host:99999", ":514", "[::]514", "[::]", "a b:1", "host:", "host:-1", "[1.2.3.4]:5"])
    func notHostPorts(text: String) {
        #expect(HostPort(text) == nil)
    }

    @Test(arguments: [
        ("0.0.0.0:514", "127.0.0.1:514", true),
        ("[::]:514", "127.0.0.1:514", true),
        ("127.0.0.1:514", "127.0.0.1:514", true),
        ("0.0.0.0:514", "0.0.0.0:515", false),
        ("127.0.0.1:0", "127.0.0.1:0", false),
        ("127.0.0.1:514", "127.0.0.2:514", false),
    ])
    func portsOverlapOnTheSameHostOrAWildcard(a: String, b: String, overlap: Bool) throws {
        let x = try #require(HostPort(a))
        let y = try #require(HostPort(b))
        #expect(x.overlaps(y) == overlap)
        #expect(y.overlaps(x) == overlap)
    }
}
