// The collector benchmarks' load generator and stopwatch (bench/ingest.sh). One binary, four modes:
//
//   sender tcp HOST PORT FILE CONNS [COUNT [HOLD_S]]
//       Sends the first COUNT frames (default: all) of FILE — an RFC 6587 octet-counted stream ("LEN SP MSG") —
//       over CONNS TCP connections, each a contiguous share cut at frame boundaries, with big write()s from the
//       mmapped file. Connects first, then prints start_ns (CLOCK_REALTIME, just before the first byte), and
//       end_ns, frames, bytes when every connection has written its share. With HOLD_S, the connections then stay
//       open (as a forwarder's would) until SIGTERM/SIGINT or HOLD_S seconds; without, they close at once.
//
//   sender udp HOST PORT FILE RATE SECONDS
//       Paces datagrams (one frame's MSG each) at RATE per second for SECONDS with sendmmsg(), catching up each
//       millisecond tick; cycles through the file. Prints sent, seconds (actual), send_errors.
//
//   sender wait-metric HOST PORT TOKEN_FILE METRIC TARGET TIMEOUT_S STALL_S
//       Polls GET /metrics (HTTP/1.1, bearer token) every 50 ms until METRIC >= TARGET: prints reached_ns and the
//       value, exit 0. Gives up when the value has not changed for STALL_S seconds (exit 3, "settled": what UDP loss
//       is measured with) or after TIMEOUT_S (exit 4); either way it prints the last value.
//
//   sender wait-lines FILE TARGET TIMEOUT_S STALL_S
//       The same for the number of lines in a growing FILE (rsyslog's output), counted incrementally.
//
//   sender freeport
//       Prints a loopback port that is free for both TCP and UDP right now (for rsyslog, which cannot bind port 0
//       and tell).
//
// Build: gcc -O2 -pthread -o sender sender.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static const unsigned char *map_file(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) die(path);
    struct stat st;
    if (fstat(fd, &st) < 0) die("fstat");
    *size = (size_t)st.st_size;
    if (*size == 0) {
        fprintf(stderr, "sender: %s is empty\n", path);
        exit(1);
    }
    void *p = mmap(NULL, *size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    close(fd);
    madvise(p, *size, MADV_SEQUENTIAL);
    return p;
}

// Parses the frame at *off: sets *msg/*len to the MSG part and advances *off past it. 0 at the end or on a bad frame.
static int next_frame(const unsigned char *d, size_t size, size_t *off, const unsigned char **msg, size_t *len) {
    size_t i = *off, n = 0;
    if (i >= size) return 0;
    while (i < size && d[i] >= '0' && d[i] <= '9') n = n * 10 + (size_t)(d[i++] - '0');
    if (i >= size || d[i] != ' ' || i == *off || i + 1 + n > size) {
        fprintf(stderr, "sender: bad octet-counted frame at byte %zu\n", *off);
        exit(1);
    }
    *msg = d + i + 1;
    *len = n;
    *off = i + 1 + n;
    return 1;
}

static struct sockaddr_in parse_addr(const char *host, const char *port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(port));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "sender: not an IPv4 address: %s\n", host);
        exit(2);
    }
    return a;
}

// MARK: tcp

struct share {
    int fd;
    const unsigned char *start;
    size_t len;
    int error;
};

static void *write_share(void *arg) {
    struct share *s = arg;
    size_t done = 0;
    while (done < s->len) {
        size_t chunk = s->len - done;
        if (chunk > (1 << 20)) chunk = 1 << 20;
        ssize_t w = write(s->fd, s->start + done, chunk);
        if (w < 0) {
            if (errno == EINTR) continue;
            s->error = errno;
            break;
        }
        done += (size_t)w;
    }
    return NULL;
}

static int mode_tcp(int argc, char **argv) {
    if (argc < 4) return 2;
    struct sockaddr_in addr = parse_addr(argv[0], argv[1]);
    size_t size;
    const unsigned char *d = map_file(argv[2], &size);
    int conns = atoi(argv[3]);
    long long want = argc > 4 ? atoll(argv[4]) : -1;
    double hold = argc > 5 ? atof(argv[5]) : 0;
    if (conns < 1 || conns > 64) return 2;

    // Frame boundaries: the end of the first COUNT frames, and CONNS roughly equal shares of them.
    size_t off = 0, len;
    const unsigned char *msg;
    long long frames = 0;
    while ((want < 0 || frames < want) && next_frame(d, size, &off, &msg, &len)) frames++;
    if (want >= 0 && frames < want) {
        fprintf(stderr, "sender: %s has only %lld frames (%lld wanted)\n", argv[2], frames, want);
        return 1;
    }
    size_t end = off;
    struct share shares[64];
    size_t cut = 0;
    off = 0;
    long long seen = 0;
    for (int c = 0; c < conns; c++) {
        long long upto = frames * (c + 1) / conns;
        while (seen < upto && next_frame(d, size, &off, &msg, &len)) seen++;
        shares[c].start = d + cut;
        shares[c].len = (c == conns - 1 ? end : off) - cut;
        shares[c].error = 0;
        cut = off;
    }
    for (int c = 0; c < conns; c++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
        shares[c].fd = fd;
    }
    // Signals are taken by sigtimedwait() below, not delivered to the writer threads.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    pthread_t threads[64];
    int64_t start = now_ns(CLOCK_REALTIME);
    printf("start_ns=%lld\n", (long long)start);
    fflush(stdout);
    for (int c = 0; c < conns; c++) pthread_create(&threads[c], NULL, write_share, &shares[c]);
    int failed = 0;
    for (int c = 0; c < conns; c++) {
        pthread_join(threads[c], NULL);
        if (shares[c].error) {
            fprintf(stderr, "sender: connection %d: %s\n", c, strerror(shares[c].error));
            failed = 1;
        }
    }
    printf("end_ns=%lld\nframes=%lld\nbytes=%zu\n", (long long)now_ns(CLOCK_REALTIME), frames, end);
    fflush(stdout);
    if (hold > 0 && !failed) {
        struct timespec t = {(time_t)hold, (long)((hold - (double)(time_t)hold) * 1e9)};
        sigtimedwait(&stop_signals, NULL, &t);
    }
    for (int c = 0; c < conns; c++) close(shares[c].fd);
    return failed;
}

// MARK: udp

static int mode_udp(int argc, char **argv) {
    if (argc < 5) return 2;
    struct sockaddr_in addr = parse_addr(argv[0], argv[1]);
    size_t size;
    const unsigned char *d = map_file(argv[2], &size);
    double rate = atof(argv[3]);
    double seconds = atof(argv[4]);
    if (rate <= 0 || seconds <= 0) return 2;

    size_t nframes = 0, cap = 1 << 16, off = 0, len;
    const unsigned char *msg;
    struct iovec *iov = malloc(cap * sizeof *iov);
    long long needed = (long long)(rate * seconds);
    while ((long long)nframes < needed && next_frame(d, size, &off, &msg, &len)) {
        if (nframes == cap) iov = realloc(iov, (cap *= 2) * sizeof *iov);
        iov[nframes].iov_base = (void *)msg;
        iov[nframes].iov_len = len;
        nframes++;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");

    enum { BATCH = 64 };
    struct mmsghdr hdrs[BATCH];
    memset(hdrs, 0, sizeof hdrs);
    long long sent = 0, errors = 0;
    size_t next = 0;
    int64_t start = now_ns(CLOCK_MONOTONIC);
    int64_t stop = start + (int64_t)(seconds * 1e9);
    struct timespec tick;
    clock_gettime(CLOCK_MONOTONIC, &tick);
    for (;;) {
        int64_t t = now_ns(CLOCK_MONOTONIC);
        if (t >= stop) t = stop;
        long long due = (long long)((double)(t - start) * rate / 1e9);
        while (sent < due) {
            int n = (int)(due - sent < BATCH ? due - sent : BATCH);
            for (int k = 0; k < n; k++) {
                hdrs[k].msg_hdr.msg_iov = &iov[(next + (size_t)k) % nframes];
                hdrs[k].msg_hdr.msg_iovlen = 1;
            }
            int r = sendmmsg(fd, hdrs, (unsigned)n, 0);
            if (r < 0) {
                if (errno == EINTR) continue;
                errors++;  // e.g. ENOBUFS/ECONNREFUSED: the datagram batch is lost on our side; count it as sent.
                r = n;
            }
            sent += r;
            next = (next + (size_t)r) % nframes;
        }
        if (t >= stop) break;
        tick.tv_nsec += 1000000;
        if (tick.tv_nsec >= 1000000000) {
            tick.tv_nsec -= 1000000000;
            tick.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL);
    }
    double took = (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9;
    printf("sent=%lld\nseconds=%.3f\nsend_errors=%lld\n", sent, took, errors);
    return 0;
}

// MARK: waiting

struct waiter {
    double target;
    double timeout_s;
    double stall_s;
    double last;
    int64_t started, changed;
};

// Called with each new reading; returns -1 to go on polling, else the exit code.
static int observe(struct waiter *w, double value) {
    int64_t t = now_ns(CLOCK_REALTIME);
    if (value != w->last) {
        w->last = value;
        w->changed = t;
    }
    if (value >= w->target) {
        printf("reached_ns=%lld\nvalue=%.0f\n", (long long)t, value);
        return 0;
    }
    if (w->stall_s > 0 && (double)(t - w->changed) / 1e9 >= w->stall_s) {
        printf("settled_ns=%lld\nvalue=%.0f\n", (long long)w->changed, value);
        return 3;
    }
    if ((double)(t - w->started) / 1e9 >= w->timeout_s) {
        printf("timeout_ns=%lld\nvalue=%.0f\n", (long long)t, value);
        return 4;
    }
    return -1;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

// One GET /metrics; returns the metric's value (summed over label sets), or -1 when it could not be read.
static double read_metric(const struct sockaddr_in *addr, const char *token, const char *metric) {
    static char buf[1 << 20];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    // A server that stops answering must not stop the stopwatch: give up on this poll after 2 s.
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n",
                     token);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t used = 0;
    for (;;) {
        ssize_t r = read(fd, buf + used, sizeof buf - 1 - used);
        if (r < 0) {
            close(fd);
            return -1;  // timed out: no reading this time
        }
        if (r == 0) break;
        used += (size_t)r;
        if (used == sizeof buf - 1) break;
    }
    close(fd);
    buf[used] = 0;
    static int warned;
    if (strncmp(buf, "HTTP/1.1 200", 12) != 0 && strncmp(buf, "HTTP/1.0 200", 12) != 0) {
        if (!warned++) fprintf(stderr, "sender: GET /metrics: %.*s\n", (int)strcspn(buf, "\r\n"), buf);
        return -1;
    }
    char *body = strstr(buf, "\r\n\r\n");
    if (!body) return -1;
    *body = 0;
    body += 4;
    // De-chunk in place when needed.
    if (strcasestr(buf, "transfer-encoding: chunked")) {
        char *in = body, *out = body;
        for (;;) {
            char *e;
            unsigned long size = strtoul(in, &e, 16);
            if (e == in) break;
            in = strstr(e, "\r\n");
            if (!in || size == 0) break;
            in += 2;
            memmove(out, in, size);
            out += size;
            in += size + 2;
            if (in > buf + used) break;
        }
        *out = 0;
    }
    size_t mlen = strlen(metric);
    double sum = 0;
    int found = 0;
    for (char *line = body; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, metric, mlen) != 0 || (line[mlen] != ' ' && line[mlen] != '{')) continue;
        char *p = line + mlen;
        if (*p == '{') p = strchr(p, '}') ? strchr(p, '}') + 1 : p;
        sum += strtod(p, NULL);
        found = 1;
    }
    if (!found) {
        if (!warned++) fprintf(stderr, "sender: GET /metrics has no %s\n", metric);
        return -1;
    }
    return sum;
}

static int mode_wait_metric(int argc, char **argv) {
    if (argc < 7) return 2;
    struct sockaddr_in addr = parse_addr(argv[0], argv[1]);
    char token[512] = {0};
    FILE *f = fopen(argv[2], "r");
    if (!f) die(argv[2]);
    if (!fgets(token, sizeof token, f)) token[0] = 0;
    fclose(f);
    token[strcspn(token, " \t\r\n")] = 0;
    struct waiter w = {atof(argv[4]), atof(argv[5]), atof(argv[6]), -1, now_ns(CLOCK_REALTIME), now_ns(CLOCK_REALTIME)};
    for (;;) {
        double v = read_metric(&addr, token, argv[3]);
        int rc = observe(&w, v < 0 ? w.last : v);
        if (rc >= 0) return rc;
        sleep_ms(50);
    }
}

static int mode_wait_lines(int argc, char **argv) {
    if (argc < 4) return 2;
    struct waiter w = {atof(argv[1]), atof(argv[2]), atof(argv[3]), -1, now_ns(CLOCK_REALTIME), now_ns(CLOCK_REALTIME)};
    static char buf[1 << 20];
    long long lines = 0;
    int fd = -1;
    for (;;) {
        if (fd < 0) fd = open(argv[0], O_RDONLY);
        if (fd >= 0) {
            ssize_t r;
            while ((r = read(fd, buf, sizeof buf)) > 0) {
                for (char *p = buf; (p = memchr(p, '\n', (size_t)(buf + r - p))) != NULL; p++) lines++;
            }
        }
        int rc = observe(&w, (double)lines);
        if (rc >= 0) return rc;
        sleep_ms(50);
    }
}

static int mode_freeport(void) {
    for (int attempt = 0; attempt < 50; attempt++) {
        int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = parse_addr("127.0.0.1", "0");
        socklen_t alen = sizeof a;
        int ok = bind(t, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(t, (struct sockaddr *)&a, &alen) == 0 &&
                 bind(u, (struct sockaddr *)&a, sizeof a) == 0;
        close(t);
        close(u);
        if (ok) {
            printf("%d\n", ntohs(a.sin_port));
            return 0;
        }
    }
    fprintf(stderr, "sender: no free port\n");
    return 1;
}

int main(int argc, char **argv) {
    int rc = 2;
    if (argc >= 2) {
        if (!strcmp(argv[1], "tcp")) rc = mode_tcp(argc - 2, argv + 2);
        else if (!strcmp(argv[1], "udp")) rc = mode_udp(argc - 2, argv + 2);
        else if (!strcmp(argv[1], "wait-metric")) rc = mode_wait_metric(argc - 2, argv + 2);
        else if (!strcmp(argv[1], "wait-lines")) rc = mode_wait_lines(argc - 2, argv + 2);
        else if (!strcmp(argv[1], "freeport")) rc = mode_freeport();
    }
    if (rc == 2)
        fprintf(stderr,
                "usage: sender tcp HOST PORT FILE CONNS [COUNT [HOLD_S]]\n"
                "       sender udp HOST PORT FILE RATE SECONDS\n"
                "       sender wait-metric HOST PORT TOKEN_FILE METRIC TARGET TIMEOUT_S STALL_S\n"
                "       sender wait-lines FILE TARGET TIMEOUT_S STALL_S\n"
                "       sender freeport\n");
    return rc;
}
