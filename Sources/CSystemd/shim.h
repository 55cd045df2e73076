// libsystemd for Swift: sd_notify (readiness, status) and sd_journal (the agent's journald source).
#ifndef NOTILOG_CSYSTEMD_SHIM_H
#define NOTILOG_CSYSTEMD_SHIM_H

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#endif
