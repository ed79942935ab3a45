/*
 * The pure logic under promotion: the ledger's chain and how verify names
 * each kind of tampering, SemVer, and the smoke check's p95.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state/artifact.h"
#include "base/semver.h"
#include "state/ledger.h"
#include "health/smoke.h"
#include "base/xalloc.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* A valid chain of n entries. */
static void chain(struct ledger_list *l, size_t n)
{
    memset(l, 0, sizeof(*l));
    const char *prev = GENESIS;
    for (size_t i = 0; i < n; i++) {
        struct ledger_entry *e = XPUSH(&l->items, &l->n, &l->alloc);
        memset(e, 0, sizeof(*e));
        e->seq = (long long)i + 1;
        e->at = xasprintf("2026-11-22T00:00:%02zu.000Z", i);
        e->actor = xstrdup("ci");
        e->action = xstrdup(i % 2 ? "gate.record" : "promote.live");
        e->env = i % 3 ? xstrdup("staging") : NULL;
        e->subject = xstrdup("sha256:ab");
        e->details = xasprintf("{\"n\":%zu}", i);
        e->prev_hash = xstrdup(prev);
        e->hash = xcalloc(1, SHA256_HEX_LEN + 1);
        ledger_entry_hash(e, e->hash);
        prev = e->hash;
    }
}

static void expect(struct ledger_list *l, long long head, const char *head_hash, long long seq,
                   const char *kind)
{
    struct ledger_problem p;
    bool ok = ledger_verify(l, head, head_hash, &p);
    if (!kind) {
        assert_true(ok);
    } else {
        assert_false(ok);
        assert_string_equal(p.kind, kind);
        assert_int_equal(p.seq, seq);
        assert_non_null(p.message);
    }
    ledger_problem_release(&p);
}

static void test_intact(void **state)
{
    (void)state;
    struct ledger_list l;
    chain(&l, 8);
    expect(&l, 8, l.items[7].hash, 0, NULL);
    expect(&l, -1, NULL, 0, NULL);
    ledger_list_release(&l);
    chain(&l, 0);
    expect(&l, 0, GENESIS, 0, NULL);
    ledger_list_release(&l);
}

static void test_altered(void **state)
{
    (void)state;
    struct ledger_list l;
    chain(&l, 8);
    free(l.items[4].actor);
    l.items[4].actor = xstrdup("mallory");
    expect(&l, 8, l.items[7].hash, 5, "altered");
    ledger_list_release(&l);
    /* a whitespace change in details is a change: the stored text is hashed */
    chain(&l, 3);
    free(l.items[0].details);
    l.items[0].details = xstrdup("{\"n\": 0}");
    expect(&l, 3, l.items[2].hash, 1, "altered");
    ledger_list_release(&l);
}

static void drop(struct ledger_list *l, size_t i)
{
    ledger_entry_release(&l->items[i]);
    memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof(*l->items));
    l->n--;
}

static void test_removed(void **state)
{
    (void)state;
    struct ledger_list l;
    chain(&l, 8);
    char *head = xstrdup(l.items[7].hash);
    drop(&l, 3);
    expect(&l, 8, head, 4, "removed");
    drop(&l, 3);
    expect(&l, 8, head, 4, "removed");
    ledger_list_release(&l);
    chain(&l, 8);
    drop(&l, 7); /* the last one: only the head can tell */
    expect(&l, 8, head, 8, "removed");
    expect(&l, -1, NULL, 0, NULL);
    ledger_list_release(&l);
    free(head);
}

static void test_inserted(void **state)
{
    (void)state;
    struct ledger_list l;
    chain(&l, 6);
    char *head = xstrdup(l.items[5].hash);
    /* renumber 3.. up by one and slip a forged entry in at 3 */
    XPUSH(&l.items, &l.n, &l.alloc);
    memmove(&l.items[3], &l.items[2], (l.n - 3) * sizeof(*l.items));
    for (size_t i = 3; i < l.n; i++)
        l.items[i].seq++;
    struct ledger_entry *f = &l.items[2];
    memset(f, 0, sizeof(*f));
    f->seq = 3;
    f->at = xstrdup("2026-11-22T00:00:09.000Z");
    f->actor = xstrdup("mallory");
    f->action = xstrdup("signoff");
    f->details = xstrdup("{}");
    f->prev_hash = xstrdup(l.items[1].hash);
    f->hash = xcalloc(1, SHA256_HEX_LEN + 1);
    ledger_entry_hash(f, f->hash); /* even with a correct hash of its own */
    expect(&l, 6, head, 3, "inserted");
    ledger_list_release(&l);
    /* one appended beyond the head */
    chain(&l, 6);
    expect(&l, 5, l.items[4].hash, 6, "inserted");
    ledger_list_release(&l);
    free(head);
}

static void test_reordered(void **state)
{
    (void)state;
    struct ledger_list l;
    chain(&l, 6);
    char *head = xstrdup(l.items[5].hash);
    struct ledger_entry t = l.items[2];
    l.items[2] = l.items[3];
    l.items[3] = t;
    l.items[2].seq = 3;
    l.items[3].seq = 4;
    expect(&l, 6, head, 3, "reordered");
    ledger_list_release(&l);
    free(head);
}

static void test_semver(void **state)
{
    (void)state;
    static const char *const good[] = {"1.0.0",      "v1.2.3",        "0.0.0",
                                       "1.0.0-rc.1", "1.0.0+build.5", "10.20.30-alpha-b.1+x"};
    static const char *const bad[] = {"1.0",  "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+",
                                      "1..0", "a.b.c",  "1.0.0 ", ""};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(semver_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(semver_valid(bad[i]));
    /* SemVer 2.0.0 §11's example order */
    static const char *const order[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                        "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                        "1.0.0-rc.1",  "1.0.0",         "1.0.1",
                                        "1.2.0",       "2.0.0",         "10.0.0"};
    size_t n = sizeof(order) / sizeof(order[0]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            assert_int_equal(semver_cmp(order[i], order[j]), i < j ? -1 : i > j);
    assert_int_equal(semver_cmp("1.0.0+a", "1.0.0+b"), 0);
}

static void test_p95(void **state)
{
    (void)state;
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = 100 - i; /* unsorted on purpose */
    assert_true(smoke_p95(v, 100) == 95);
    double one[] = {7};
    assert_true(smoke_p95(one, 1) == 7);
    double twenty[20];
    for (int i = 0; i < 20; i++)
        twenty[i] = i + 1;
    assert_true(smoke_p95(twenty, 20) == 19);
    assert_true(smoke_p95(NULL, 0) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intact),    cmocka_unit_test(test_altered),
        cmocka_unit_test(test_removed),   cmocka_unit_test(test_inserted),
        cmocka_unit_test(test_reordered), cmocka_unit_test(test_semver),
        cmocka_unit_test(test_p95),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
