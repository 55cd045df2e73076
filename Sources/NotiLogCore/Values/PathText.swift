/// Path arithmetic on text, without Foundation: `NSString.deletingLastPathComponent` crashes (an illegal
/// instruction in `String._startOfLastPathComponent`) on some relative paths in this toolchain's Foundation —
/// `notilog-server --data-dir d` did.
public enum PathText {
    /// The directory part of `path`: `a/b` → `a`, `/a` → `/`, `a` → `.`; trailing slashes do not count.
    public static func directory(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        if slash == p.startIndex { return "/" }
        var dir = p[..<slash]
        while dir.count > 1, dir.hasSuffix("/") { dir = dir.dropLast() }
        return String(dir)
    }
}
