/*
 * The port registry (seeds 000 and 002, "port discipline"): the rules a
 * manifest's ports must follow, who holds a port right now, and stopping
 * the processes that hold registry ports.
 *
 * ports_check_registry() is pure: it reads the manifest and appends
 * diagnostics. ports_listeners() reads /proc (Linux only). Nothing here
 * prints; command lines it returns have passed through redact_text().
 */
#ifndef OTAP_PORTS_H
#define OTAP_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/diag.h"
#include "base/err.h"
#include "manifest/manifest.h"

/* Appends every registry rule the manifest breaks to d; returns how many. */
size_t ports_check_registry(const struct manifest *m, struct diag_list *d);

/* Is port inside the registry: the allowed range, or any block when no range? */
bool ports_in_registry(const struct manifest *m, int port);
/* Does something accept connections on 127.0.0.1:port right now? */
bool ports_answers(int port);
/* The innermost block holding port, or NULL. */
const struct manifest_block *ports_block_of(const struct manifest *m, int port);

struct port_listener {
    int port;
    bool ipv6;
    char *address;       /* local address as text, e.g. 127.0.0.1 or :: */
    unsigned long inode; /* socket inode */
    pid_t pid;           /* 0 when no visible process holds it */
    char *command;       /* redacted command line, or NULL */
};

struct port_listeners {
    struct port_listener *items;
    size_t n, alloc;
};

/*
 * Fills out with every TCP socket listening on a port in [lo, hi], IPv4
 * and IPv6, with the process holding it when /proc lets us see it.
 * Sorted by port. Returns 0 or OTAP_EEXTERNAL when /proc/net cannot be read.
 */
int ports_listeners(int lo, int hi, struct port_listeners *out, struct otap_err *err);
void ports_listeners_release(struct port_listeners *l);

enum ports_stop_result {
    PORTS_STOP_TERMINATED, /* exited after SIGTERM */
    PORTS_STOP_KILLED,     /* needed SIGKILL */
    PORTS_STOP_GONE,       /* was already gone */
    PORTS_STOP_REFUSED,    /* pid 1 or otap itself */
    PORTS_STOP_FAILED,     /* could not signal it (errno in *errnum) */
};

/*
 * Stops pid: SIGTERM, then SIGKILL when it is still there after grace_ms.
 * Never signals pid 1 or the calling process.
 */
enum ports_stop_result ports_stop(pid_t pid, int grace_ms, int *errnum);
const char *ports_stop_result_name(enum ports_stop_result r);

/* The span of registry ports: the allowed range, or from the lowest block to the highest. */
void ports_registry_span(const struct manifest *m, int *lo, int *hi);

/* One process that 'ports free' stops, with every requested port it holds. */
struct ports_free_item {
    pid_t pid; /* 0: a listener no visible process holds (cannot be stopped) */
    char *command;
    int *ports;
    size_t nports, alloc;
    const char *result; /* "would stop", "terminated", "killed", "gone", "refused", "failed" */
    char *reason;       /* why it was refused or failed, or NULL */
};

struct ports_free_plan {
    struct ports_free_item *items;
    size_t n, alloc;
};

/*
 * Which processes hold the requested registry ports (every registry port
 * when nreq is 0), one entry per process. A requested port outside the
 * registry refuses the whole plan (OTAP_EREFUSED naming them) before
 * anything is looked at: a typo never stops an unrelated server.
 */
int ports_free_plan(const struct manifest *m, const int *req, size_t nreq,
                    struct ports_free_plan *out, struct otap_err *err);
/*
 * Stops every process of the plan (SIGTERM, SIGKILL after grace_ms), or
 * with dry_run only marks them. Returns OTAP_OK, OTAP_EREFUSED when one
 * was pid 1 or otap, OTAP_EEXTERNAL when one could not be stopped.
 */
int ports_free_run(struct ports_free_plan *p, bool dry_run, int grace_ms);
void ports_free_plan_release(struct ports_free_plan *p);

#endif
