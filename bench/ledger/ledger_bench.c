/*
 * The ledger benchmark's driver: appends N entries to a state store, one
 * transaction each as otap writes them, then verifies the whole chain;
 * and, as the floor, inserts the same number of rows of the same shape
 * into a plain table, one transaction each, with no chain and no hash.
 * Prints one line per phase: "PHASE N SECONDS".
 *
 *   otap-ledger-bench URL N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/ledger.h"
#include "base/num.h"
#include "state/store.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(struct otap_err *err)
{
    fprintf(stderr, "otap-ledger-bench: %s\n", err->msg ? err->msg : "failed");
    exit(1);
}

int main(int argc, char **argv)
{
    long long n;
    if (argc != 3 || num_parse_ll(argv[2], &n) < 0 || n < 1) {
        fprintf(stderr, "usage: otap-ledger-bench URL N\n");
        return 2;
    }
    struct otap_err err = OTAP_ERR_INIT;
    struct store *s;
    if (store_open_url(&s, argv[1], ".", &err) < 0)
        die(&err);
    if (store_exec(s,
                   "CREATE TABLE bench_floor (seq bigint PRIMARY KEY, at text, actor text, action "
                   "text, env text, subject text, details text, prev_hash text, hash text)",
                   NULL, 0, NULL, &err) < 0)
        die(&err);
    const char *hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    double t0 = now();
    for (long long i = 1; i <= n; i++) {
        char seq[24], at[32], details[96];
        snprintf(seq, sizeof(seq), "%lld", i);
        store_time_now(at);
        snprintf(details, sizeof(details), "{\"gate\":\"ci\",\"result\":\"pass\",\"run\":%lld}", i);
        const char *p[] = {seq, at, "ci-bot", "gate.record", "staging", hash, details, hash, hash};
        if (store_begin(s, &err) < 0 ||
            store_exec(s, "INSERT INTO bench_floor VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", p,
                       9, NULL, &err) < 0 ||
            store_commit(s, &err) < 0)
            die(&err);
    }
    printf("floor %lld %.3f\n", n, now() - t0);

    t0 = now();
    for (long long i = 1; i <= n; i++) {
        if (store_begin(s, &err) < 0 ||
            ledger_append(
                s, "ci-bot", "gate.record", "staging", hash,
                json_pack("{s:s, s:s, s:I}", "gate", "ci", "result", "pass", "run", (json_int_t)i),
                NULL, &err) < 0 ||
            store_commit(s, &err) < 0)
            die(&err);
    }
    printf("append %lld %.3f\n", n, now() - t0);

    t0 = now();
    struct ledger_list l;
    long long head;
    char head_hash[SHA256_HEX_LEN + 1];
    if (store_begin_snapshot(s, &err) < 0 || ledger_head(s, &head, head_hash, &err) < 0 ||
        ledger_read(s, &(struct ledger_filter){0}, &l, &err) < 0)
        die(&err);
    store_rollback(s);
    struct ledger_problem p;
    bool ok = ledger_verify(&l, head, head_hash, &p);
    printf("verify %zu %.3f\n", l.n, now() - t0);
    if (!ok) {
        fprintf(stderr, "otap-ledger-bench: the chain does not verify: %s\n", p.message);
        return 1;
    }
    ledger_list_release(&l);
    store_close(s);
    return 0;
}
