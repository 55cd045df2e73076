import NotiLogCore
import Testing

@Suite("Path text")
struct PathTextTests {
    @Test(arguments: [
        ("d", "."), ("data/d", "data"), ("/var/lib/notilog", "/var/lib"), ("/notilog", "/"), ("/", "/"), ("a/b/", "a"),
        ("./rules.yaml", "."), ("a//b", "a"), ("", "."), ("../x", ".."),
    ])
    func directoryOf(_ path: String, _ expected: String) {
        #expect(PathText.directory(of: path) == expected)
    }
}
