// libsystemd for Swift: sd_notify (readiness, status), sd_journal (the agent's journald source) and sd_bus (the
// agent's unit watcher reads units' properties from systemd).
#ifndef NOTILOG_CSYSTEMD_SHIM_H
#define NOTILOG_CSYSTEMD_SHIM_H

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#endif
