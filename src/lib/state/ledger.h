/*
 * The ledger: every state change, appended in the same transaction as the
 * change, each entry chained to the one before it by SHA-256.
 *
 * An entry's hash is SHA-256 over its canonical encoding: the compact
 * JSON array [seq, at, actor, action, env, subject, prev_hash], a newline,
 * then details exactly as stored (compact JSON with sorted keys). The
 * store also keeps the head (the last sequence number and hash) in
 * otap_state_meta, written with every append, so removing or adding
 * entries at the end is caught too.
 *
 * Verification walks the chain and names the first entry that is wrong
 * and how: altered (contents no longer match the hash), removed (a gap in
 * the sequence, or entries missing after the head), inserted (an entry the
 * next one skips over, or one beyond the head) or reordered (an entry that
 * belongs elsewhere in the chain).
 */
#ifndef OTAP_LEDGER_H
#define OTAP_LEDGER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/sha256.h"
#include "state/store.h"

struct ledger_entry {
    long long seq;
    char *at, *actor, *action;
    char *env, *subject; /* may be NULL */
    char *details;       /* canonical JSON text */
    char *prev_hash, *hash;
};

struct ledger_list {
    struct ledger_entry *items;
    size_t n, alloc;
};

void ledger_list_release(struct ledger_list *l);

/*
 * Appends one entry. Must run inside store_begin()/store_commit(), the
 * transaction that makes the change it records. details (may be NULL) is
 * stolen. seq_out, when not NULL, receives the new sequence number.
 */
int ledger_append(struct store *s, const char *actor, const char *action, const char *env,
                  const char *subject, json_t *details, long long *seq_out, struct otap_err *err);

struct ledger_filter {
    const char *env;   /* only this environment's entries, or NULL */
    const char *since; /* only entries at or after this UTC time (a prefix works: 2026-11-21) */
    long long after;   /* only entries with seq > after */
    long long limit;   /* at most this many; 0: all */
};

/*
 * With a PostgreSQL store each append sends NOTIFY otap_ledger (the new
 * sequence number) in its transaction, so every otap serve sharing the
 * store hears of every change (a promotion, a flag, a backup) when it
 * commits. A listener: *out NULL (and 0) when the store is not
 * PostgreSQL. Poll ledger_listen_fd(); ledger_listen_drain() returns the
 * notifications heard (>= 0), or -1 when the connection is lost.
 */
#define LEDGER_CHANNEL "otap_ledger"
struct ledger_listener;
int ledger_listen(const char *root, struct ledger_listener **out, struct otap_err *err);
int ledger_listen_fd(const struct ledger_listener *l);
int ledger_listen_drain(struct ledger_listener *l);
void ledger_listen_close(struct ledger_listener *l);

int ledger_read(struct store *s, const struct ledger_filter *f, struct ledger_list *out,
                struct otap_err *err);

/* The head recorded in the store. */
int ledger_head(struct store *s, long long *seq, char hash[SHA256_HEX_LEN + 1],
                struct otap_err *err);

/* The canonical hash of e (its own hash field is ignored). */
void ledger_entry_hash(const struct ledger_entry *e, char out[SHA256_HEX_LEN + 1]);

struct ledger_problem {
    long long seq;    /* the first entry that is wrong */
    const char *kind; /* "altered", "removed", "inserted", "reordered" */
    char *message;
};

/*
 * Verifies entries (in stored order) as one chain from the first entry;
 * head_seq < 0 means no head to compare with (an exported file). Returns
 * true when it holds; else false with *problem filled (release it).
 */
bool ledger_verify(const struct ledger_list *l, long long head_seq, const char *head_hash,
                   struct ledger_problem *problem);
void ledger_problem_release(struct ledger_problem *p);

/* One entry as a JSON object (the export format, one per line). */
json_t *ledger_entry_json(const struct ledger_entry *e);
/* The reverse, for 'ledger verify --file'; NULL with *why set when a field is missing. */
int ledger_entry_from_json(json_t *o, struct ledger_entry *e, char **why);
void ledger_entry_release(struct ledger_entry *e);

#endif
