/*
 * Port discipline: the registry's rules, and who holds a registry port.
 *
 * The seeds keep a PORT_REGISTRY with an allowed range and named blocks
 * and scripts to list, check and clean ports. Here the registry is the
 * manifest's ports section; holders are found the way ss(8) does, from
 * /proc/net/tcp{,6} (listening sockets and their inodes) and
 * /proc/PID/fd (which process owns each inode), with no helper program.
 */
#include "host/ports.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "base/num.h"
#include "base/redact.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* ---- registry rules --------------------------------------------------- */

bool ports_answers(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

bool ports_in_registry(const struct manifest *m, int port)
{
    const struct manifest_ports *p = &m->ports;
    if (p->has_range)
        return port >= p->lo && port <= p->hi;
    for (size_t i = 0; i < p->nblocks; i++)
        if (port >= p->blocks[i].lo && port <= p->blocks[i].hi)
            return true;
    return false;
}

const struct manifest_block *ports_block_of(const struct manifest *m, int port)
{
    const struct manifest_block *best = NULL;
    for (size_t i = 0; i < m->ports.nblocks; i++) {
        const struct manifest_block *b = &m->ports.blocks[i];
        if (port < b->lo || port > b->hi)
            continue;
        if (!best || b->hi - b->lo < best->hi - best->lo)
            best = b;
    }
    return best;
}

static const struct manifest_block *block_named(const struct manifest *m, const char *name)
{
    for (size_t i = 0; i < m->ports.nblocks; i++)
        if (!strcmp(m->ports.blocks[i].name, name))
            return &m->ports.blocks[i];
    return NULL;
}

/* Is a declared (directly or through a chain of 'within') inside b? */
static bool declared_within(const struct manifest *m, const struct manifest_block *a,
                            const struct manifest_block *b)
{
    for (size_t hops = 0; a && a->within && hops <= m->ports.nblocks; hops++) {
        const struct manifest_block *parent = block_named(m, a->within);
        if (parent == b)
            return true;
        a = parent;
    }
    return false;
}

size_t ports_check_registry(const struct manifest *m, struct diag_list *d)
{
    const struct manifest_ports *p = &m->ports;
    size_t before = diag_count(d, DIAG_ERROR);

    for (size_t i = 0; i < p->nblocks; i++) {
        const struct manifest_block *b = &p->blocks[i];
        if (p->has_range && (b->lo < p->lo || b->hi > p->hi))
            diag_add(d, DIAG_ERROR, b->pos.line, b->pos.col,
                     "port block '%s' (%d-%d) is outside the allowed range %d-%d", b->name, b->lo,
                     b->hi, p->lo, p->hi);
        if (b->within) {
            const struct manifest_block *parent = block_named(m, b->within);
            if (parent && (b->lo < parent->lo || b->hi > parent->hi))
                diag_add(d, DIAG_ERROR, b->pos.line, b->pos.col,
                         "port block '%s' (%d-%d) says it is within '%s' (%d-%d) but is not "
                         "inside it",
                         b->name, b->lo, b->hi, parent->name, parent->lo, parent->hi);
        }
        for (size_t j = 0; j < i; j++) {
            const struct manifest_block *a = &p->blocks[j];
            if (b->hi < a->lo || a->hi < b->lo)
                continue;
            if (declared_within(m, b, a) || declared_within(m, a, b))
                continue;
            bool inside = b->lo >= a->lo && b->hi <= a->hi;
            bool outside = a->lo >= b->lo && a->hi <= b->hi;
            if (inside || outside) {
                const struct manifest_block *in = inside ? b : a, *out = inside ? a : b;
                diag_add(d, DIAG_ERROR, b->pos.line, b->pos.col,
                         "port block '%s' (%d-%d) lies inside '%s' (%d-%d); if that is on "
                         "purpose, declare it with 'within: %s'",
                         in->name, in->lo, in->hi, out->name, out->lo, out->hi, out->name);
            } else {
                diag_add(d, DIAG_ERROR, b->pos.line, b->pos.col,
                         "port blocks '%s' (%d-%d) and '%s' (%d-%d) overlap", a->name, a->lo, a->hi,
                         b->name, b->lo, b->hi);
            }
        }
    }

    for (size_t i = 0; i < m->nservices; i++) {
        const struct manifest_service *s = &m->services[i];
        if (!s->port)
            continue;
        struct manifest_pos pos = s->port_pos.line ? s->port_pos : s->pos;
        if (p->has_range && (s->port < p->lo || s->port > p->hi))
            diag_add(d, DIAG_ERROR, pos.line, pos.col,
                     "service '%s' uses port %d, outside the allowed range %d-%d", s->name, s->port,
                     p->lo, p->hi);
        else if (p->nblocks && !ports_block_of(m, s->port))
            diag_add(d, DIAG_ERROR, pos.line, pos.col,
                     "service '%s' uses port %d, which is in no port block", s->name, s->port);
        for (size_t j = 0; j < i; j++)
            if (m->services[j].port == s->port)
                diag_add(d, DIAG_ERROR, pos.line, pos.col,
                         "services '%s' and '%s' both use port %d", m->services[j].name, s->name,
                         s->port);
    }
    return diag_count(d, DIAG_ERROR) - before;
}

/* ---- listeners -------------------------------------------------------- */

#define TCP_LISTEN 0x0A

static char *format_addr(const char *hex, bool v6)
{
    char text[INET6_ADDRSTRLEN] = "?";
    if (!v6 && strlen(hex) == 8) {
        struct in_addr a;
        unsigned long v = strtoul(hex, NULL, 16);
        /* /proc prints the address as a host-order word of network bytes */
        a.s_addr = (in_addr_t)v;
        inet_ntop(AF_INET, &a, text, sizeof(text));
    } else if (v6 && strlen(hex) == 32) {
        struct in6_addr a;
        for (int w = 0; w < 4; w++) {
            char word[9];
            memcpy(word, hex + w * 8, 8);
            word[8] = '\0';
            uint32_t v = (uint32_t)strtoul(word, NULL, 16);
            memcpy(&a.s6_addr[w * 4], &v, 4);
        }
        inet_ntop(AF_INET6, &a, text, sizeof(text));
    }
    return xstrdup(text);
}

static int read_proc_net(const char *path, bool v6, int lo, int hi, struct port_listeners *out)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT && v6 ? 0 : -1; /* a kernel without IPv6 has no tcp6 */
    char *line = NULL;
    size_t cap = 0;
    bool header = true;
    while (getline(&line, &cap, f) > 0) {
        if (header) {
            header = false;
            continue;
        }
        char local[64], remote[64];
        unsigned state;
        unsigned long inode;
        /* sl local rem st tx:rx tr:tm retr uid timeout inode */
        if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %lu", local, remote, &state,
                   &inode) != 4)
            continue;
        if (state != TCP_LISTEN)
            continue;
        char *colon = strrchr(local, ':');
        if (!colon)
            continue;
        *colon = '\0';
        int port = (int)strtol(colon + 1, NULL, 16);
        if (port < lo || port > hi)
            continue;
        struct port_listener *l = XPUSH(&out->items, &out->n, &out->alloc);
        memset(l, 0, sizeof(*l));
        l->port = port;
        l->ipv6 = v6;
        l->address = format_addr(local, v6);
        l->inode = inode;
    }
    free(line);
    fclose(f);
    return 0;
}

static char *read_cmdline(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path, 1 << 16) < 0 || !sb.len) {
        strbuf_release(&sb);
        return NULL;
    }
    while (sb.len && sb.buf[sb.len - 1] == '\0')
        sb.len--;
    for (size_t i = 0; i < sb.len; i++)
        if (sb.buf[i] == '\0' || (unsigned char)sb.buf[i] < 0x20)
            sb.buf[i] = ' ';
    sb.buf[sb.len] = '\0';
    char *r = redact_text(sb.buf);
    strbuf_release(&sb);
    return r;
}

/* Maps socket inodes to processes by scanning /proc/PID/fd once. */
static void find_owners(struct port_listeners *out)
{
    if (!out->n)
        return;
    DIR *proc = opendir("/proc");
    if (!proc)
        return;
    struct dirent *de;
    size_t unresolved = out->n;
    while (unresolved && (de = readdir(proc))) {
        long long pid;
        if (num_parse_ll(de->d_name, &pid) < 0 || pid <= 0)
            continue;
        char fddir[64];
        snprintf(fddir, sizeof(fddir), "/proc/%lld/fd", pid);
        DIR *fds = opendir(fddir);
        if (!fds)
            continue; /* gone, or not ours to see */
        struct dirent *fe;
        while ((fe = readdir(fds))) {
            if (fe->d_name[0] == '.')
                continue;
            char link[384], target[128];
            snprintf(link, sizeof(link), "%s/%s", fddir, fe->d_name);
            ssize_t n = readlink(link, target, sizeof(target) - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            unsigned long inode;
            if (sscanf(target, "socket:[%lu]", &inode) != 1)
                continue;
            for (size_t i = 0; i < out->n; i++) {
                struct port_listener *l = &out->items[i];
                if (l->inode == inode && !l->pid) {
                    l->pid = (pid_t)pid;
                    l->command = read_cmdline(l->pid);
                    unresolved--;
                }
            }
        }
        closedir(fds);
    }
    closedir(proc);
}

static int cmp_listener(const void *a, const void *b)
{
    const struct port_listener *x = a, *y = b;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return (int)x->ipv6 - (int)y->ipv6;
}

int ports_listeners(int lo, int hi, struct port_listeners *out, struct otap_err *err)
{
    struct port_listeners l = {0};
    if (read_proc_net("/proc/net/tcp", false, lo, hi, &l) < 0 ||
        read_proc_net("/proc/net/tcp6", true, lo, hi, &l) < 0) {
        int e = errno;
        ports_listeners_release(&l);
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot read '/proc/net/tcp': %s", strerror(e));
    }
    find_owners(&l);
    if (l.n)
        qsort(l.items, l.n, sizeof(*l.items), cmp_listener);
    *out = l;
    return 0;
}

void ports_listeners_release(struct port_listeners *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].address);
        free(l->items[i].command);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* ---- stopping --------------------------------------------------------- */

/* Gone, or a zombie waiting for its parent: either way it holds no port. */
static bool process_gone(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return true;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    struct strbuf sb = STRBUF_INIT;
    bool zombie = false;
    if (strbuf_read_file(&sb, path, 4096) == 0) {
        const char *rp = strrchr(sb.buf, ')');
        zombie = rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
    } else {
        zombie = errno == ENOENT;
    }
    strbuf_release(&sb);
    return zombie;
}

static bool wait_gone(pid_t pid, int ms)
{
    struct timespec step = {0, 20 * 1000 * 1000};
    for (int waited = 0; waited <= ms; waited += 20) {
        if (process_gone(pid))
            return true;
        nanosleep(&step, NULL);
    }
    return process_gone(pid);
}

enum ports_stop_result ports_stop(pid_t pid, int grace_ms, int *errnum)
{
    if (pid <= 1 || pid == getpid())
        return PORTS_STOP_REFUSED;
    if (process_gone(pid))
        return PORTS_STOP_GONE;
    if (kill(pid, SIGTERM) < 0) {
        if (errno == ESRCH)
            return PORTS_STOP_GONE;
        if (errnum)
            *errnum = errno;
        return PORTS_STOP_FAILED;
    }
    if (wait_gone(pid, grace_ms))
        return PORTS_STOP_TERMINATED;
    if (kill(pid, SIGKILL) < 0 && errno != ESRCH) {
        if (errnum)
            *errnum = errno;
        return PORTS_STOP_FAILED;
    }
    if (wait_gone(pid, 5000))
        return PORTS_STOP_KILLED;
    if (errnum)
        *errnum = ETIMEDOUT;
    return PORTS_STOP_FAILED;
}

const char *ports_stop_result_name(enum ports_stop_result r)
{
    switch (r) {
    case PORTS_STOP_TERMINATED:
        return "terminated";
    case PORTS_STOP_KILLED:
        return "killed";
    case PORTS_STOP_GONE:
        return "gone";
    case PORTS_STOP_REFUSED:
        return "refused";
    case PORTS_STOP_FAILED:
        return "failed";
    }
    return "?";
}

void ports_registry_span(const struct manifest *m, int *lo, int *hi)
{
    if (m->ports.has_range) {
        *lo = m->ports.lo;
        *hi = m->ports.hi;
        return;
    }
    *lo = 65536;
    *hi = 0;
    for (size_t i = 0; i < m->ports.nblocks; i++) {
        if (m->ports.blocks[i].lo < *lo)
            *lo = m->ports.blocks[i].lo;
        if (m->ports.blocks[i].hi > *hi)
            *hi = m->ports.blocks[i].hi;
    }
}

static struct ports_free_item *plan_item(struct ports_free_plan *p, const struct port_listener *l)
{
    for (size_t i = 0; l->pid && i < p->n; i++)
        if (p->items[i].pid == l->pid)
            return &p->items[i];
    struct ports_free_item *it = XPUSH(&p->items, &p->n, &p->alloc);
    memset(it, 0, sizeof(*it));
    it->pid = l->pid;
    it->command = l->command ? xstrdup(l->command) : NULL;
    if (!l->pid) {
        it->result = "failed";
        it->reason = xstrdup("no process otap can see holds it");
    }
    return it;
}

int ports_free_plan(const struct manifest *m, const int *req, size_t nreq,
                    struct ports_free_plan *out, struct otap_err *err)
{
    struct strbuf outside = STRBUF_INIT;
    for (size_t i = 0; i < nreq; i++)
        if (!ports_in_registry(m, req[i]))
            strbuf_addf(&outside, "%s%d", outside.len ? "," : "", req[i]);
    if (outside.len) {
        int rc = otap_err_set(err, OTAP_EREFUSED,
                              "refusing to free ports outside the registry: [%s]; nothing was "
                              "stopped",
                              outside.buf);
        strbuf_release(&outside);
        return rc;
    }
    strbuf_release(&outside);
    int lo, hi;
    ports_registry_span(m, &lo, &hi);
    struct port_listeners ls = {0};
    if (lo <= hi) {
        int rc = ports_listeners(lo, hi, &ls, err);
        if (rc < 0)
            return rc;
    }
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < ls.n; i++) {
        const struct port_listener *l = &ls.items[i];
        bool wanted = nreq == 0;
        for (size_t r = 0; r < nreq; r++)
            wanted |= req[r] == l->port;
        if (!wanted)
            continue;
        struct ports_free_item *it = plan_item(out, l);
        bool dup = false;
        for (size_t k = 0; k < it->nports; k++)
            dup |= it->ports[k] == l->port;
        if (!dup)
            *XPUSH(&it->ports, &it->nports, &it->alloc) = l->port;
    }
    ports_listeners_release(&ls);
    return 0;
}

int ports_free_run(struct ports_free_plan *p, bool dry_run, int grace_ms)
{
    int worst = OTAP_OK;
    for (size_t i = 0; i < p->n; i++) {
        struct ports_free_item *it = &p->items[i];
        if (!it->pid) {
            worst = OTAP_EEXTERNAL;
            continue;
        }
        if (dry_run) {
            it->result = "would stop";
            continue;
        }
        int e = 0;
        enum ports_stop_result r = ports_stop(it->pid, grace_ms, &e);
        it->result = ports_stop_result_name(r);
        if (r == PORTS_STOP_REFUSED) {
            it->reason = xstrdup("otap never stops pid 1 or itself");
            if (worst == OTAP_OK)
                worst = OTAP_EREFUSED;
        } else if (r == PORTS_STOP_FAILED) {
            it->reason = xstrdup(strerror(e));
            worst = OTAP_EEXTERNAL;
        }
    }
    return worst;
}

void ports_free_plan_release(struct ports_free_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].command);
        free(p->items[i].ports);
        free(p->items[i].reason);
    }
    free(p->items);
    memset(p, 0, sizeof(*p));
}
