// Writes COUNT RFC 5424 syslog messages (~180 bytes each) as an RFC 6587 octet-counted stream ("LEN SP MSG",
// no line ends) to stdout: the input of the collector benchmarks (bench/ingest.sh).
//
//   genmsgs COUNT [SEED] > FILE
//
// Deterministic for a (COUNT, SEED). Varied hosts (40), apps (10, each with its own facility), severities
// (weighted: mostly info/notice/warning, ~16% err or worse), words (a vocabulary of ~3,000), and structured data in
// ~35% of messages. Two marker words make the search benchmarks' result sizes known:
//   - COMMON_WORD ("timeout") is in ~30% of messages, once each;
//   - RARE_WORD ("zqxvulture") is in exactly 10 messages (spread over the stream), when COUNT >= 10.
// Neither appears anywhere else (not in host, app or structured data; no vocabulary word contains them).
// Message timestamps start at 2026-11-25T10:00:00.000Z, 1 ms apart (searches by time use the received time).
//
// Build: gcc -O2 -o genmsgs genmsgs.c
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMMON_WORD "timeout"
#define RARE_WORD "zqxvulture"

static uint64_t rng_state;
static inline uint64_t rnd(void) {  // splitmix64
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline unsigned below(unsigned n) { return (unsigned)(rnd() % n); }

static const char *real_words[] = {
    "connection", "closed", "by", "peer", "accepted", "publickey", "for", "user", "from", "port", "session",
    "opened", "failed", "password", "invalid", "request", "upstream", "response", "while", "reading", "header",
    "client", "server", "error", "warning", "started", "stopped", "reloading", "configuration", "disk", "usage",
    "memory", "pressure", "queue", "full", "retry", "backoff", "delivered", "deferred", "bounced", "relay",
    "status", "sent", "received", "bytes", "packets", "interface", "link", "up", "down", "changed", "state",
    "to", "the", "a", "of", "and", "in", "on", "at", "with", "after", "before", "ms", "seconds", "job", "finished",
    "scheduled", "worker", "process", "exited", "code", "signal", "killed", "restarting", "health", "check",
    "passed", "latency", "slow", "query", "table", "index", "vacuum", "checkpoint", "complete", "cache", "hit",
    "miss", "evicted", "token", "expired", "login", "logout", "denied", "permission", "file", "not", "found",
    "write", "read", "sync", "flush", "buffer", "overflow", "dropped", "rate", "limit", "exceeded", "throttled",
    "certificate", "handshake", "tls", "renewed", "backend", "frontend", "route", "path", "method", "agent",
};
#define NREAL (sizeof real_words / sizeof real_words[0])

#define NPSEUDO 3000
static char pseudo_words[NPSEUDO][16];

static const char *hosts[40];
static char host_storage[40][16];

static const struct { const char *name; int facility; const char *msgid; } apps[] = {
    {"nginx", 16, "access"}, {"sshd", 10, "-"}, {"postfix", 2, "smtp"}, {"kernel", 0, "-"},
    {"CRON", 9, "-"}, {"systemd", 3, "-"}, {"api-gateway", 17, "req"}, {"worker", 18, "job"},
    {"haproxy", 19, "-"}, {"postgres", 20, "db"},
};
#define NAPPS (sizeof apps / sizeof apps[0])

// Severity by weight: emerg 1, alert 1, crit 3, err 11, warning 15, notice 15, info 49, debug 5 (of 100).
static int pick_severity(void) {
    static const int cumulative[8] = {1, 2, 5, 16, 31, 46, 95, 100};
    unsigned r = below(100);
    for (int s = 0; s < 8; s++)
        if (r < (unsigned)cumulative[s]) return s;
    return 6;
}

// A word, Zipf-like: low ranks much more often.
static const char *pick_word(void) {
    unsigned r = below(1000);
    if (r < 550) return real_words[below(NREAL)];
    // Skewed pick among the pseudo-words: square of a uniform value.
    double u = (double)(rnd() >> 11) / (double)(1ull << 53);
    return pseudo_words[(unsigned)(u * u * NPSEUDO)];
}

static void make_vocabulary(void) {
    static const char *syllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ve", "zo", "pi", "da", "fu", "gle",
                                      "bri", "cor", "dex", "fen", "gar", "hul", "jas", "kev", "lum", "mor",
                                      "nax", "pol", "qua", "ris", "sel", "tav", "vin", "wex", "yor", "zan"};
    const unsigned ns = sizeof syllables / sizeof syllables[0];
    for (unsigned i = 0; i < NPSEUDO; i++) {
        unsigned n = i;
        char *w = pseudo_words[i];
        w[0] = 0;
        int parts = 2 + (int)(i % 2);
        for (int p = 0; p < parts; p++) {
            strcat(w, syllables[n % ns]);
            n /= ns;
            n += i * 7 + (unsigned)p;  // vary the tail
        }
        if (strstr(w, COMMON_WORD) || strstr(w, RARE_WORD)) strcpy(w, "placeholder");
    }
    static const char *roles[] = {"web", "db", "cache", "lb", "mail", "app", "queue", "edge"};
    int counts[] = {12, 6, 4, 2, 3, 8, 3, 2};  // 40 hosts
    int k = 0;
    for (int r = 0; r < 8; r++)
        for (int j = 1; j <= counts[r]; j++) {
            snprintf(host_storage[k], sizeof host_storage[k], "%s-%02d", roles[r], j);
            hosts[k] = host_storage[k];
            k++;
        }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: genmsgs COUNT [SEED] > FILE\n");
        return 2;
    }
    long long count = atoll(argv[1]);
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 20261125;
    make_vocabulary();

    static char out[1 << 20];
    size_t used = 0;
    char msg[512], frame[600];
    const time_t base = 1795600800;  // 2026-11-25T10:00:00Z (checked below)
    long long next_rare = count >= 10 ? count / 20 : -1, rare_done = 0;

    for (long long i = 0; i < count; i++) {
        time_t t = base + (time_t)(i / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        int sev = pick_severity();
        unsigned a = below(NAPPS);
        const char *host = hosts[below(40)];
        int len = snprintf(msg, sizeof msg, "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s %u %s ",
                           apps[a].facility * 8 + sev, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                           tm.tm_min, tm.tm_sec, (int)(i % 1000), host, apps[a].name, 100 + below(60000),
                           apps[a].msgid);
        unsigned sd = below(100);
        if (sd < 20)
            len += snprintf(msg + len, sizeof msg - len, "[origin@32473 ip=\"10.%u.%u.%u\" env=\"prod\"] ", below(256),
                            below(256), below(256));
        else if (sd < 30)
            len += snprintf(msg + len, sizeof msg - len, "[req@32473 id=\"%08x\" ms=\"%u\"] ",
                            (unsigned)rnd(), below(5000));
        else if (sd < 35)
            len += snprintf(msg + len, sizeof msg - len,
                            "[origin@32473 ip=\"10.%u.%u.%u\"][req@32473 id=\"%08x\"] ", below(256), below(256),
                            below(256), (unsigned)rnd());
        else
            len += snprintf(msg + len, sizeof msg - len, "- ");

        int target = 140 + (int)below(81);  // 140..220, mean 180
        int nwords = 0;
        int common_at = below(100) < 30 ? (int)below(6) : -1;
        int rare_at = -1;
        if (i == next_rare) {
            rare_at = (int)below(4);
            if (rare_at == common_at) rare_at++;
            rare_done++;
            next_rare = rare_done < 10 ? (count / 10) * rare_done + count / 20 : -1;
        }
        while (len < target || nwords <= common_at || nwords <= rare_at) {
            const char *w;
            if (nwords == common_at)
                w = COMMON_WORD;
            else if (nwords == rare_at)
                w = RARE_WORD;
            else
                w = pick_word();
            if (nwords > 0) msg[len++] = ' ';
            size_t wl = strlen(w);
            memcpy(msg + len, w, wl);
            len += (int)wl;
            nwords++;
            if (below(10) == 0 && len < target - 8) len += snprintf(msg + len, sizeof msg - len, " %u", below(100000));
        }
        int flen = snprintf(frame, sizeof frame, "%d ", len);
        memcpy(frame + flen, msg, (size_t)len);
        flen += len;
        if (used + (size_t)flen > sizeof out) {
            fwrite(out, 1, used, stdout);
            used = 0;
        }
        memcpy(out + used, frame, (size_t)flen);
        used += (size_t)flen;
    }
    fwrite(out, 1, used, stdout);
    if (fflush(stdout) != 0) {
        perror("genmsgs: write");
        return 1;
    }
    return 0;
}
