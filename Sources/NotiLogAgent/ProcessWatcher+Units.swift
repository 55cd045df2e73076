import CSystemd
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// systemd's units through the system bus (`sd_bus`): `ActiveState`, `SubState` and, for services, `NRestarts`,
/// `ExecMainCode` and `ExecMainStatus`, read as properties of `org.freedesktop.systemd1`'s unit objects.
///
/// Only where systemd runs (`/run/systemd/system`) and a system bus listens (`/run/dbus/system_bus_socket`); else
/// `open` gives a reason instead, and the units' states reach the server only as systemd's own journal messages
/// (which the journald source forwards and the server's `state` rules read). Not thread-safe (an `sd_bus` is
/// not): the watcher's one thread uses it.
final class SystemBus {
    static let systemdRunning = "/run/systemd/system"
    static let systemBusSocket = "/run/dbus/system_bus_socket"

    private var bus: OpaquePointer?

    private init(bus: OpaquePointer) {
        self.bus = bus
    }

    deinit {
        if let bus { _ = sd_bus_flush_close_unref(bus) }
    }

    /// A connection, or why there is none.
    static func open() -> Result<SystemBus, BusUnavailable> {
        guard FileManager.default.fileExists(atPath: systemdRunning) else {
            return .failure(BusUnavailable("systemd is not running here (no \(systemdRunning))"))
        }
        guard FileManager.default.fileExists(atPath: systemBusSocket) else {
            return .failure(BusUnavailable("no system bus (no \(systemBusSocket))"))
        }
        var bus: OpaquePointer?
        let rc = sd_bus_open_system(&bus)
        guard rc >= 0, let bus else { return .failure(BusUnavailable("cannot connect to the system bus: \(String(cString: strerror(-rc)))")) }
        // A stuck systemd must not hold up the agent's reading loop for the 25 s default.
        _ = sd_bus_set_method_call_timeout(bus, 2_000_000)
        return .success(SystemBus(bus: bus))
    }

    struct BusUnavailable: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// False once the connection broke (the bus restarted): the watcher opens a new one.
    var isOpen: Bool { bus.map { sd_bus_is_open($0) > 0 } ?? false }

    /// The unit's properties, or why they could not be read.
    func properties(of unit: String) -> Result<UnitProperties, BusUnavailable> {
        guard let bus else { return .failure(BusUnavailable("not connected")) }
        var encoded: UnsafeMutablePointer<CChar>?
        guard sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &encoded) >= 0, let encoded else {
            return .failure(BusUnavailable("cannot make a bus path of \(unit)"))
        }
        let path = String(cString: encoded)
        free(encoded)
        let unitInterface = "org.freedesktop.systemd1.Unit"
        let serviceInterface = "org.freedesktop.systemd1.Service"
        guard case .success(let active) = string(bus, path, unitInterface, "ActiveState") else {
            return .failure(BusUnavailable(lastError))
        }
        guard case .success(let sub) = string(bus, path, unitInterface, "SubState") else {
            return .failure(BusUnavailable(lastError))
        }
        var p = UnitProperties(activeState: active, subState: sub)
        // Not services (timers, sockets, mounts) have no such properties: nil, not an error.
        if unit.hasSuffix(".service") {
            var restarts: UInt32 = 0
            var code: Int32 = 0
            var status: Int32 = 0
            if trivial(bus, path, serviceInterface, "NRestarts", "u", &restarts) { p.restarts = Int(restarts) }
            if trivial(bus, path, serviceInterface, "ExecMainCode", "i", &code) { p.execMainCode = code }
            if trivial(bus, path, serviceInterface, "ExecMainStatus", "i", &status) { p.execMainStatus = status }
        }
        return .success(p)
    }

    private var lastError = ""

    private func string(_ bus: OpaquePointer, _ path: String, _ interface: String, _ member: String) -> Result<String, BusUnavailable> {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var out: UnsafeMutablePointer<CChar>?
        let rc = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, interface, member, &error, &out)
        guard rc >= 0, let out else {
            lastError = "cannot read \(member): " + (error.message.map { String(cString: $0) } ?? String(cString: strerror(-rc)))
            return .failure(BusUnavailable(lastError))
        }
        defer { free(out) }
        return .success(String(cString: out))
    }

    private func trivial<T>(_ bus: OpaquePointer, _ path: String, _ interface: String, _ member: String, _ type: Unicode.Scalar, _ value: inout T) -> Bool {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        return withUnsafeMutablePointer(to: &value) { ptr in
            sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path, interface, member, &error, CChar(type.value), ptr) >= 0
        }
    }
}
