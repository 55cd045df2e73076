import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The web UI: static pages and ES modules (no build step), shipped as the target's `UI` resource directory and
/// served from memory. `/` is the search page, `/NAME` the page `UI/NAME.html` for each name in `pages`,
/// `/assets/NAME` the styles and scripts. The pages hold no data and need no session: their scripts ask
/// `GET /api/v1/session` and go to `/login` on a 401 (and hide what the user's role may not use; the API
/// enforces it).
///
/// Only files found in `UI/assets` when the server starts are served, looked up by their exact name, so no
/// request path ever reaches the file system (`/assets/../Package.swift` and its encoded forms are 404s).
struct UIRoutes: Sendable {
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    /// One file, ready to send.
    struct File: Sendable {
        var bytes: ByteBuffer
        var contentType: String
        /// A strong validator: a hash of the bytes.
        var etag: String
    }

    /// What the UI directory held at start-up, or why there is none.
    struct Files: Sendable {
        var pages: [String: File] = [:]
        var assets: [String: File] = [:]
        var problem: String?
    }

    /// Every page, by its path (`/search` is `UI/search.html`, put into `UI/_layout.html` unless it is a whole
    /// document of its own, as `login.html` is). The navigation bar (`common.js`) lists them too.
    static let pages = ["search", "tail", "alerts", "rules", "channels", "hosts", "users", "settings", "login"]

    let files: Files

    init(logger: Logger) {
        files = Self.shared
        if let problem = files.problem {
            logger.warning("the web UI is not served", metadata: ["error.message": "\(problem)"])
        }
    }

    func register(on router: Router<APIRequestContext>) {
        router.get("/") { request, _ in self.page("search", request) }
        for name in Self.pages {
            router.get(RouterPath(stringLiteral: name)) { request, _ in self.page(name, request) }
        }
        router.get("assets/:name") { request, context in
            self.asset(context.parameters.get("name") ?? "", request)
        }
    }

    // MARK: Answers

    func page(_ name: String, _ request: Request) -> Response {
        guard let file = files.pages[name] else { return Self.missing(files.problem ?? "no page \(name)", status: .serviceUnavailable) }
        return Self.serve(file, request)
    }

    func asset(_ name: String, _ request: Request) -> Response {
        guard let file = files.assets[name] else { return Self.missing("no such file: /assets/\(name.prefix(100))", status: .notFound) }
        return Self.serve(file, request)
    }

    /// The headers every UI answer carries.
    static func securityHeaders(contentType: String) -> HTTPFields {
        var headers: HTTPFields = [.contentType: contentType]
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "same-origin"
        headers[.xFrameOptions] = "DENY"
        return headers
    }

    /// The file, or 304 when the browser's copy is current. `no-cache`: without a build step the names carry no
    /// version, so the browser revalidates each time (a 304 costs one small round trip).
    static func serve(_ file: File, _ request: Request) -> Response {
        var headers = securityHeaders(contentType: file.contentType)
        headers[.cacheControl] = "no-cache"
        headers[.eTag] = file.etag
        if let sent = request.headers[.ifNoneMatch], sent.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == file.etag }) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: file.bytes))
    }

    static func missing(_ message: String, status: HTTPResponse.Status) -> Response {
        var headers = securityHeaders(contentType: "text/plain; charset=utf-8")
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    // MARK: Loading

    static let shared: Files = load()

    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon", "json": "application/json; charset=utf-8",
        "txt": "text/plain; charset=utf-8", "woff2": "font/woff2",
    ]

    /// The resource bundle SwiftPM copies beside the executable (and the test bundle). Looked up by hand rather
    /// than through `Bundle.module`, whose accessor stops the process when the bundle is missing: a server
    /// installed without it still serves its API and says in its log that the UI is missing.
    static func uiDirectory() -> String? {
        let bundleName = "NotiLog_NotiLogWeb.resources"
        var candidates: [String] = []
        if let override = ProcessInfo.processInfo.environment["NOTILOG_UI_DIR"], !override.isEmpty { candidates.append(override) }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(exe.appendingPathComponent(bundleName).appendingPathComponent("UI").path)
        candidates.append(Bundle.main.bundleURL.appendingPathComponent(bundleName).appendingPathComponent("UI").path)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(bundleName).appendingPathComponent("UI").path)
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/search.html") }
    }

    static func load() -> Files {
        guard let dir = uiDirectory() else {
            return Files(problem: "the UI files (NotiLog_NotiLogWeb.resources/UI) are not beside the executable; set NOTILOG_UI_DIR")
        }
        var files = Files()
        let assets = dir + "/assets"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: assets)) ?? [] where !name.hasPrefix(".") {
            if let file = read(assets + "/" + name) { files.assets[name] = file }
        }
        let layout = FileManager.default.contents(atPath: dir + "/_layout.html").map { String(decoding: $0, as: UTF8.self) }
        for name in pages {
            guard let data = FileManager.default.contents(atPath: dir + "/\(name).html") else { continue }
            let text = String(decoding: data, as: UTF8.self)
            if text.lowercased().hasPrefix("<!doctype") {
                files.pages[name] = file(data, type: contentTypes["html"]!)
            } else if let layout {
                let html = assemble(layout: layout, name: name, page: text, hasStyles: files.assets["\(name).css"] != nil)
                files.pages[name] = file(Data(html.utf8), type: contentTypes["html"]!)
            }
        }
        return files
    }

    /// A page from the shared shell `_layout.html` (head, top bar, navigation) and the page's own file: its first
    /// line is the page's `<title>`, the rest its `<main>`. The page's script is `/assets/NAME.js`, and its style
    /// sheet `/assets/NAME.css` when there is one.
    static func assemble(layout: String, name: String, page: String, hasStyles: Bool) -> String {
        let title = page.prefix { $0 != "\n" }
        let body = page.dropFirst(title.count + 1)
        let styles = hasStyles ? #"<link rel="stylesheet" href="/assets/\#(name).css">"# : ""
        return layout
            .replacingOccurrences(of: "{{title}}", with: title)
            .replacingOccurrences(of: hasStyles ? "{{styles}}" : "{{styles}}\n", with: styles)
            .replacingOccurrences(of: "{{name}}", with: name)
            .replacingOccurrences(of: "{{page}}", with: body)
    }

    static func read(_ path: String) -> File? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let ext = (path as NSString).pathExtension.lowercased()
        guard let type = contentTypes[ext] else { return nil }
        return file(data, type: type)
    }

    static func file(_ data: Data, type: String) -> File {
        // FNV-1a, 64 bits: a validator, not a security measure.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return File(bytes: ByteBuffer(bytes: data), contentType: type, etag: "\"\(String(hash, radix: 16))-\(data.count)\"")
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}
