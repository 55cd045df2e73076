import Foundation
import Testing

extension BrowserSuites {
    /// The hosts, users and settings pages in headless Chromium against the real server binary
    /// (`Tests/peers/ui_admin_check.py`): watch records and a hostile host name over syslog, users and tokens,
    /// retention changed at run time, and a viewer refused everywhere an admin is needed.
    @Suite("Web UI admin pages (browser)")
    struct WebUIAdminTests {
        @Test(
            "hosts with watches, users and tokens, retention settings, a viewer refused",
            .enabled(if: BrowserCheck.missing == nil, "needs /usr/bin/chromium and playwright in .peers/python (scripts/setup installs both)"))
        func adminPages() async throws {
            try await BrowserCheck.run("ui_admin_check.py")
        }
    }
}
