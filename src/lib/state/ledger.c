/*
 * The hash-chained ledger: appending, reading, and verifying the chain.
 */
#include <stdlib.h>
#include <string.h>

#include "state/ledger.h"
#include "base/redact.h"
#include "state/store_impl.h"
#include "base/num.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define LEDGER_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

void ledger_entry_release(struct ledger_entry *e)
{
    free(e->at);
    free(e->actor);
    free(e->action);
    free(e->env);
    free(e->subject);
    free(e->details);
    free(e->prev_hash);
    free(e->hash);
    memset(e, 0, sizeof(*e));
}

void ledger_list_release(struct ledger_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        ledger_entry_release(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void ledger_entry_hash(const struct ledger_entry *e, char out[SHA256_HEX_LEN + 1])
{
    json_t *a = json_pack("[I, s, s, s, s?, s?, s]", (json_int_t)e->seq, e->at ? e->at : "",
                          e->actor ? e->actor : "", e->action ? e->action : "", e->env, e->subject,
                          e->prev_hash ? e->prev_hash : "");
    char *head = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, head, strlen(head));
    sha256_update(&h, "\n", 1);
    if (e->details)
        sha256_update(&h, e->details, strlen(e->details));
    sha256_final_hex(&h, out);
    free(head);
}

int ledger_head(struct store *s, long long *seq, char hash[SHA256_HEX_LEN + 1],
                struct otap_err *err)
{
    struct store_rows r;
    int rc = store_exec(s,
                        "SELECT key, value FROM otap_state_meta WHERE key IN "
                        "('ledger_head_seq', 'ledger_head_hash')",
                        NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    bool have_seq = false, have_hash = false;
    for (size_t i = 0; i < r.nrows; i++) {
        const char *k = store_cell(&r, i, 0), *v = store_cell(&r, i, 1);
        if (!strcmp(k, "ledger_head_seq"))
            have_seq = v && num_parse_ll(v, seq) == 0;
        else if (v && strlen(v) == SHA256_HEX_LEN) {
            memcpy(hash, v, SHA256_HEX_LEN + 1);
            have_hash = true;
        }
    }
    store_rows_release(&r);
    if (!have_seq || !have_hash)
        return otap_err_set(err, OTAP_EREFUSED,
                            "the ledger's head record in '%s' is missing or unreadable",
                            store_describe(s));
    return 0;
}

int ledger_append(struct store *s, const char *actor, const char *action, const char *env,
                  const char *subject, json_t *details, long long *seq_out, struct otap_err *err)
{
    if (!details)
        details = json_object();
    char *raw = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(details);
    /* an entry is forever: what it records passes the redactor first (a failure's reason
     * may quote a driver, a probe or a database) */
    char *text = redactor_apply(store_redactor(s), raw, strlen(raw), NULL);
    explicit_bzero(raw, strlen(raw));
    free(raw);
    char *safe_subject =
        subject ? redactor_apply(store_redactor(s), subject, strlen(subject), NULL) : NULL;
    subject = safe_subject;
    if (!store_in_transaction(s)) {
        free(text);
        free(safe_subject);
        return otap_err_set(err, OTAP_EREFUSED, "a ledger entry is only written with its change");
    }
    long long head = 0;
    char prev[SHA256_HEX_LEN + 1];
    int rc = ledger_head(s, &head, prev, err);
    if (rc < 0) {
        free(text);
        free(safe_subject);
        return rc;
    }
    char at[32];
    store_time_now(at);
    struct ledger_entry e = {
        .seq = head + 1,
        .at = at,
        .actor = (char *)actor,
        .action = (char *)action,
        .env = (char *)env,
        .subject = (char *)subject,
        .details = text,
        .prev_hash = prev,
    };
    char hash[SHA256_HEX_LEN + 1], seq[24];
    ledger_entry_hash(&e, hash);
    snprintf(seq, sizeof(seq), "%lld", e.seq);
    const char *p[] = {seq, at, actor, action, env, subject, text, prev, hash};
    rc = store_exec(s,
                    "INSERT INTO otap_ledger (seq, at, actor, action, env, subject, details, "
                    "prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    p, 9, NULL, err);
    const char *q[] = {seq, hash};
    if (rc == 0)
        rc = store_exec(s,
                        "UPDATE otap_state_meta SET value = CASE key WHEN 'ledger_head_seq' "
                        "THEN $1 ELSE $2 END WHERE key IN ('ledger_head_seq', "
                        "'ledger_head_hash')",
                        q, 2, NULL, err);
    /* heard by every otap serve sharing the store when (and only if) this commits */
    if (rc == 0 && store_kind_of(s) == STORE_POSTGRES) {
        const char *n[] = {seq};
        rc = store_exec(s, "SELECT pg_notify('" LEDGER_CHANNEL "', $1)", n, 1, NULL, err);
    }
    free(text);
    free(safe_subject);
    if (rc == 0 && seq_out)
        *seq_out = e.seq;
    return rc;
}

struct ledger_listener {
    struct store *s;
};

int ledger_listen(const char *root, struct ledger_listener **out, struct otap_err *err)
{
    *out = NULL;
    struct store *s;
    int rc = store_open(&s, root, err);
    if (rc < 0)
        return rc;
    if (store_kind_of(s) != STORE_POSTGRES) {
        store_close(s);
        return 0;
    }
    rc = store_exec(s, "LISTEN " LEDGER_CHANNEL, NULL, 0, NULL, err);
    if (rc < 0) {
        store_close(s);
        return rc;
    }
    *out = xcalloc(1, sizeof(**out));
    (*out)->s = s;
    return 0;
}

int ledger_listen_fd(const struct ledger_listener *l)
{
    return store_pg_socket(l->s);
}

int ledger_listen_drain(struct ledger_listener *l)
{
    return store_pg_notifications(l->s);
}

void ledger_listen_close(struct ledger_listener *l)
{
    if (!l)
        return;
    store_close(l->s);
    free(l);
}

int ledger_read(struct store *s, const struct ledger_filter *f, struct ledger_list *out,
                struct otap_err *err)
{
    char after[24], limit[24];
    snprintf(after, sizeof(after), "%lld", f && f->after > 0 ? f->after : -1);
    snprintf(limit, sizeof(limit), "%lld", f && f->limit > 0 ? f->limit : (long long)1 << 62);
    const char *p[] = {after, f ? f->env : NULL, f ? f->since : NULL, limit};
    struct store_rows r;
    int rc = store_exec(s,
                        "SELECT seq, at, actor, action, env, subject, details, prev_hash, hash "
                        "FROM otap_ledger WHERE seq > CAST($1 AS bigint) AND (CAST($2 AS text) "
                        "IS NULL OR env = $2) AND (CAST($3 AS text) IS NULL OR at >= $3) ORDER "
                        "BY seq LIMIT CAST($4 AS bigint)",
                        p, 4, &r, err);
    if (rc < 0)
        return rc;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < r.nrows; i++) {
        struct ledger_entry *e = XPUSH(&out->items, &out->n, &out->alloc);
        memset(e, 0, sizeof(*e));
        if (num_parse_ll(store_cell(&r, i, 0), &e->seq) < 0)
            e->seq = -1;
        e->at = store_cell_dup(&r, i, 1);
        e->actor = store_cell_dup(&r, i, 2);
        e->action = store_cell_dup(&r, i, 3);
        e->env = store_cell_dup(&r, i, 4);
        e->subject = store_cell_dup(&r, i, 5);
        e->details = store_cell_dup(&r, i, 6);
        e->prev_hash = store_cell_dup(&r, i, 7);
        e->hash = store_cell_dup(&r, i, 8);
    }
    store_rows_release(&r);
    return 0;
}

static bool same(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static bool fail(struct ledger_problem *p, long long seq, const char *kind, char *message)
{
    p->seq = seq;
    p->kind = kind;
    p->message = message;
    return false;
}

/* The index of the entry whose hash is h, other than skip; -1 when none. */
static long find_hash(const struct ledger_list *l, const char *h, size_t skip)
{
    for (size_t j = 0; j < l->n; j++)
        if (j != skip && same(l->items[j].hash, h))
            return (long)j;
    return -1;
}

bool ledger_verify(const struct ledger_list *l, long long head_seq, const char *head_hash,
                   struct ledger_problem *p)
{
    memset(p, 0, sizeof(*p));
    const char *prev = LEDGER_GENESIS;
    long long expect = 1;
    for (size_t i = 0; i < l->n; i++) {
        const struct ledger_entry *e = &l->items[i];
        if (e->seq > expect)
            return fail(p, expect, "removed",
                        expect + 1 == e->seq
                            ? xasprintf("entry %lld was removed: the chain goes from %lld to %lld",
                                        expect, expect - 1, e->seq)
                            : xasprintf("entries %lld to %lld were removed: the chain goes from "
                                        "%lld to %lld",
                                        expect, e->seq - 1, expect - 1, e->seq));
        if (e->seq < expect)
            return fail(p, e->seq, "reordered",
                        xasprintf("entry %lld appears after entry %lld: the entries were reordered",
                                  e->seq, expect - 1));
        char h[SHA256_HEX_LEN + 1];
        ledger_entry_hash(e, h);
        bool content_ok = same(h, e->hash), link_ok = same(e->prev_hash, prev);
        if (content_ok && link_ok) {
            prev = e->hash;
            expect++;
            continue;
        }
        /* where this entry's predecessor sits in the list */
        long j = e->prev_hash ? find_hash(l, e->prev_hash, i) : -1;
        if (j > (long)i)
            return fail(p, e->seq, "reordered",
                        xasprintf("entry %lld was reordered: in the chain it follows the entry "
                                  "now numbered %lld",
                                  e->seq, l->items[j].seq));
        if (j >= 0 && (size_t)j + 2 == i)
            return fail(p, l->items[i - 1].seq, "inserted",
                        xasprintf("entry %lld was inserted: entry %lld links to the entry now "
                                  "numbered %lld",
                                  l->items[i - 1].seq, e->seq, l->items[j].seq));
        /* the next entry links over this one to the one before: this one was slipped in */
        if (i + 1 < l->n && same(l->items[i + 1].prev_hash, prev))
            return fail(p, e->seq, "inserted",
                        xasprintf("entry %lld was inserted: entry %lld links to entry %lld", e->seq,
                                  l->items[i + 1].seq, e->seq - 1));
        if (j >= 0 && (size_t)j + 1 != i)
            return fail(p, e->seq, "reordered",
                        xasprintf("entry %lld was reordered: in the chain it follows the entry "
                                  "now numbered %lld",
                                  e->seq, l->items[j].seq));
        if (!content_ok)
            return fail(
                p, e->seq, "altered",
                xasprintf("entry %lld was altered: its contents no longer match its hash", e->seq));
        return fail(p, e->seq, "altered",
                    xasprintf("entry %lld does not link to entry %lld: an entry before it was "
                              "altered or replaced",
                              e->seq, e->seq - 1));
    }
    if (head_seq < 0)
        return true;
    long long last = expect - 1;
    if (last < head_seq)
        return fail(p, last + 1, "removed",
                    last + 1 == head_seq
                        ? xasprintf("entry %lld was removed: the ledger's head says %lld entries, "
                                    "%lld remain",
                                    head_seq, head_seq, last)
                        : xasprintf("entries %lld to %lld were removed: the ledger's head says "
                                    "%lld entries, %lld remain",
                                    last + 1, head_seq, head_seq, last));
    if (last > head_seq)
        return fail(p, head_seq + 1, "inserted",
                    xasprintf("entry %lld was inserted: the ledger's head ends at entry %lld",
                              head_seq + 1, head_seq));
    if (!same(prev, head_hash))
        return fail(
            p, last, "altered",
            xasprintf("entry %lld was replaced: its hash differs from the ledger's head", last));
    return true;
}

void ledger_problem_release(struct ledger_problem *p)
{
    free(p->message);
    memset(p, 0, sizeof(*p));
}

json_t *ledger_entry_json(const struct ledger_entry *e)
{
    json_error_t jerr;
    json_t *d = e->details ? json_loads(e->details, 0, &jerr) : NULL;
    return json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?, s:o, s:s, s:s, s:s}", "seq",
                     (json_int_t)e->seq, "at", e->at ? e->at : "", "actor",
                     e->actor ? e->actor : "", "action", e->action ? e->action : "", "env", e->env,
                     "subject", e->subject, "details", d ? d : json_null(), "details_text",
                     e->details ? e->details : "", "prev_hash", e->prev_hash ? e->prev_hash : "",
                     "hash", e->hash ? e->hash : "");
}

int ledger_entry_from_json(json_t *o, struct ledger_entry *e, char **why)
{
    memset(e, 0, sizeof(*e));
    static const char *const fields[] = {"at",           "actor",     "action",
                                         "details_text", "prev_hash", "hash"};
    json_t *seq = json_object_get(o, "seq");
    if (!json_is_integer(seq)) {
        *why = xstrdup("'seq' is missing or not an integer");
        return -1;
    }
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (!json_is_string(json_object_get(o, fields[i]))) {
            *why = xasprintf("'%s' is missing or not a string", fields[i]);
            return -1;
        }
    json_t *env = json_object_get(o, "env"), *subject = json_object_get(o, "subject");
    e->seq = json_integer_value(seq);
    e->at = xstrdup(json_string_value(json_object_get(o, "at")));
    e->actor = xstrdup(json_string_value(json_object_get(o, "actor")));
    e->action = xstrdup(json_string_value(json_object_get(o, "action")));
    e->env = json_is_string(env) ? xstrdup(json_string_value(env)) : NULL;
    e->subject = json_is_string(subject) ? xstrdup(json_string_value(subject)) : NULL;
    e->details = xstrdup(json_string_value(json_object_get(o, "details_text")));
    e->prev_hash = xstrdup(json_string_value(json_object_get(o, "prev_hash")));
    e->hash = xstrdup(json_string_value(json_object_get(o, "hash")));
    return 0;
}
