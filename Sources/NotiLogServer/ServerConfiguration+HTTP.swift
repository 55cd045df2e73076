import Foundation
import NIOSSL
import NotiLogWeb

/// `http:` as a mapping: the address, HTTPS, and sign-in sessions. `http: "HOST:PORT"` stays short for the address.
///
/// ```yaml
/// http:
///   address: "0.0.0.0:8514"
///   tls: {cert_file: /etc/notilog/tls/web.crt, key_file: /etc/notilog/tls/web.key}
///   session: {idle_timeout: 12h, absolute_timeout: 7d}
/// ```
extension ServerConfiguration {
    public struct HTTP: Sendable, Hashable, Codable {
        public var address: String?
        public var tls: HTTPTLS?
        public var session: HTTPSession?

        public init(address: String? = nil, tls: HTTPTLS? = nil, session: HTTPSession? = nil) {
            self.address = address
            self.tls = tls
            self.session = session
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case address, tls, session
        }

        public init(from decoder: any Decoder) throws {
            try decoder.reportUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            address = try c.lenient(.address, "HOST:PORT", decoder)
            tls = try c.lenient(.tls, "a mapping with cert_file and key_file", decoder)
            session = try c.lenient(.session, "a mapping with idle_timeout and absolute_timeout", decoder)
        }
    }

    /// The certificate chain and private key (PEM files) the UI and API are served with.
    public struct HTTPTLS: Sendable, Hashable, Codable {
        public var certFile: String?
        public var keyFile: String?

        public init(certFile: String? = nil, keyFile: String? = nil) {
            self.certFile = certFile
            self.keyFile = keyFile
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case certFile = "cert_file"
            case keyFile = "key_file"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.reportUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            certFile = try c.lenient(.certFile, "a file path", decoder)
            keyFile = try c.lenient(.keyFile, "a file path", decoder)
        }
    }

    /// How long a sign-in lasts: unused (`idle_timeout`, default 12h) and at most (`absolute_timeout`, default 7d).
    public struct HTTPSession: Sendable, Hashable, Codable {
        public var idleTimeout: String?
        public var absoluteTimeout: String?

        public init(idleTimeout: String? = nil, absoluteTimeout: String? = nil) {
            self.idleTimeout = idleTimeout
            self.absoluteTimeout = absoluteTimeout
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case idleTimeout = "idle_timeout"
            case absoluteTimeout = "absolute_timeout"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.reportUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            idleTimeout = try c.lenient(.idleTimeout, "a duration", decoder)
            absoluteTimeout = try c.lenient(.absoluteTimeout, "a duration", decoder)
        }
    }

    /// Reads `http:` either way: a string is the address, a mapping may say more.
    mutating func decodeHTTP(_ c: KeyedDecodingContainer<CodingKeys>, _ decoder: any Decoder) throws {
        guard c.contains(.http), (try? c.decodeNil(forKey: .http)) != true else { return }
        if let address = try? c.decode(String.self, forKey: .http) {
            http = address
            return
        }
        let section: HTTP? = try c.lenient(.http, "HOST:PORT or a mapping (address, tls, session)", decoder)
        http = section?.address
        httpTLS = section?.tls
        httpSession = section?.session ?? HTTPSession()
    }

    /// The `NOTILOG_HTTP_*` variables beside `NOTILOG_HTTP` (the address), and `NOTILOG_ADMIN_PASSWORD`.
    mutating func applyHTTP(environment: [String: String]) {
        if let v = environment["NOTILOG_ADMIN_PASSWORD"], !v.isEmpty { adminPassword = v }
        func value(_ variable: String, _ key: String) -> String? {
            guard let v = environment[variable]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            origins[key] = variable
            return v
        }
        if let v = value("NOTILOG_HTTP_TLS_CERT_FILE", "http.tls.cert_file") { httpTLS = HTTPTLS(certFile: v, keyFile: httpTLS?.keyFile) }
        if let v = value("NOTILOG_HTTP_TLS_KEY_FILE", "http.tls.key_file") { httpTLS = HTTPTLS(certFile: httpTLS?.certFile, keyFile: v) }
        if let v = value("NOTILOG_HTTP_SESSION_IDLE_TIMEOUT", "http.session.idle_timeout") { httpSession.idleTimeout = v }
        if let v = value("NOTILOG_HTTP_SESSION_ABSOLUTE_TIMEOUT", "http.session.absolute_timeout") { httpSession.absoluteTimeout = v }
    }
}

/// The checked `http:` settings beyond the address.
public struct HTTPSettings: Sendable {
    /// nil: plain HTTP.
    public var tls: TLSConfiguration?
    /// The PEM files, for messages.
    public var certFile: String?
    public var sessions = UserAuthority.Configuration()
    /// For the first start's `admin` (from `NOTILOG_ADMIN_PASSWORD`); nil: a random one, written to a file.
    public var adminPassword: String?
    /// How often an open live tail's credential is checked again.
    public var tailCredentialRecheck: Duration = .seconds(60)

    public init(tls: TLSConfiguration? = nil, certFile: String? = nil, sessions: UserAuthority.Configuration = UserAuthority.Configuration()) {
        self.tls = tls
        self.certFile = certFile
        self.sessions = sessions
    }
}

extension ServerConfiguration {
    /// Checks `http.tls` and `http.session`; every problem names its key.
    func httpSettings(checkFiles: Bool) -> (HTTPSettings, [ConfigurationProblem]) {
        var problems: [ConfigurationProblem] = []
        var settings = HTTPSettings()
        func problem(_ key: String, _ message: String) { problems.append(ConfigurationProblem(key, message, origin: origins[key])) }

        if let tls = httpTLS {
            let files = [("http.tls.cert_file", tls.certFile), ("http.tls.key_file", tls.keyFile)]
            var ok = true
            for (key, value) in files where value == nil || value!.isEmpty {
                problem(key, "missing: serving HTTPS needs a certificate (cert_file) and a key (key_file), PEM files")
                ok = false
            }
            if ok, let cert = tls.certFile, let key = tls.keyFile {
                if checkFiles {
                    for (k, file, name) in [("http.tls.cert_file", cert, "certificate"), ("http.tls.key_file", key, "key")] {
                        if let error = Self.checkPEMFile(file, isKey: name == "key") {
                            problem(k, error)
                            ok = false
                        }
                    }
                }
                if ok {
                    do {
                        let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
                        let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                        settings.tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
                        settings.certFile = cert
                    } catch {
                        if checkFiles { problem("http.tls.cert_file", "cannot use \(cert) with \(key): \(error)") }
                    }
                }
            }
        }

        func seconds(_ text: String?, _ key: String, minimum: Int64) -> Int64? {
            guard let text else { return nil }
            guard let d = ConfigurationValues.duration(text) else {
                problem(key, "\"\(text)\" is not a duration (e.g. 30m, 12h, 7d)")
                return nil
            }
            guard d.components.seconds >= minimum else {
                problem(key, "must be at least \(minimum / 60)m, found \(ConfigurationValues.text(d))")
                return nil
            }
            return d.components.seconds
        }
        if let s = seconds(httpSession.idleTimeout, "http.session.idle_timeout", minimum: 60) { settings.sessions.idleTimeoutSeconds = s }
        if let s = seconds(httpSession.absoluteTimeout, "http.session.absolute_timeout", minimum: 60) { settings.sessions.absoluteTimeoutSeconds = s }
        if settings.sessions.idleTimeoutSeconds > settings.sessions.absoluteTimeoutSeconds {
            problem("http.session.idle_timeout", "must not be longer than http.session.absolute_timeout")
        }
        if let password = adminPassword {
            if let p = UserAuthority.passwordProblem(password) {
                problems.append(ConfigurationProblem("admin password", p, origin: "NOTILOG_ADMIN_PASSWORD"))
            }
            settings.adminPassword = password
        }
        return (settings, problems)
    }

    /// Nil when the file is a readable PEM certificate (or key); else what is wrong.
    static func checkPEMFile(_ file: String, isKey: Bool) -> String? {
        let fm = FileManager.default
        guard fm.fileExists(atPath: file) else { return "file not found: \(file)" }
        guard fm.isReadableFile(atPath: file) else { return "cannot read \(file) (permissions)" }
        do {
            if isKey {
                _ = try NIOSSLPrivateKey(file: file, format: .pem)
            } else if try NIOSSLCertificate.fromPEMFile(file).isEmpty {
                return "\(file) holds no PEM certificate"
            }
            return nil
        } catch {
            return "\(file) is not a PEM \(isKey ? "private key" : "certificate"): \(error)"
        }
    }
}
