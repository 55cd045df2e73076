#!/bin/bash
# A real systemd with a real system bus, for the agent's unit watcher, without a machine of its own: run as
#
#   unshare --pid --mount --uts --fork --kill-child=SIGKILL --mount-proc --propagation private \
#       Tests/peers/systemd_sandbox.sh UNIT_DIR
#
# it is PID 1 of fresh PID and mount namespaces. It puts a tmpfs on /run (the machine's /run is untouched),
# copies UNIT_DIR's unit files into /run/systemd/system, and becomes systemd (`--system`, with `container=` set
# so it leaves the hardware alone), starting only `notilog-sandbox.target` from UNIT_DIR. dbus.socket and
# dbus.service here replace Debian's with ones that need nothing else started, so `dbus-daemon --system` serves
# /run/dbus/system_bus_socket inside. Processes join it with `nsenter -t SYSTEMD_PID -m -p`; killing that PID
# (SIGKILL) ends everything in it.
set -euo pipefail
units=${1:?usage: systemd_sandbox.sh UNIT_DIR}
[ "$$" = 1 ] || { echo "systemd_sandbox.sh: not PID 1 of its own namespace (run it through unshare --pid --fork)" >&2; exit 2; }
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/systemd/system /run/dbus
cat >/run/systemd/system/dbus.socket <<'UNIT'
[Unit]
Description=D-Bus system bus socket (NotiLog test sandbox)
DefaultDependencies=no
[Socket]
ListenStream=/run/dbus/system_bus_socket
UNIT
cat >/run/systemd/system/dbus.service <<'UNIT'
[Unit]
Description=D-Bus system bus (NotiLog test sandbox)
DefaultDependencies=no
Requires=dbus.socket
[Service]
ExecStart=/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only
UNIT
cp "$units"/* /run/systemd/system/
export container=notilog-sandbox
exec /lib/systemd/systemd --system --unit=notilog-sandbox.target --log-target=console --log-level=notice
