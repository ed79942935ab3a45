/*
 * Task lists and plans: seed 003's table planned into its order, batches
 * and critical path; every error at once with its line (duplicate ids,
 * unknown dependencies, cycles with their path, bad levels and counts,
 * unknown columns); a task over the budget alone in its batch; CSV's
 * quoting; the natural order of ids; YAML and CSV giving the same plan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "plan/plan.h"
#include "plan/scope.h"

static size_t plan_text(const char *text, const char *name, long budget, struct plan_tasks *t,
                        struct plan *p, struct diag_list *d)
{
    diag_list_init(d, name);
    plan_tasks_read(text, strlen(text), name, t, d);
    return plan_make(t, budget, name, p, d);
}

static bool has_diag(const struct diag_list *d, int line, const char *needle)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].line == line && strstr(d->items[i].msg, needle))
            return true;
    return false;
}

static void test_seed003(void **state)
{
    (void)state;
    const char *src = getenv("SRC");
    assert_non_null(src);
    char *path = xasprintf("%s/tests/fixtures/plan/seed003.csv", src);
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(strbuf_read_file(&sb, path, 1 << 20), 0);
    struct plan_tasks t;
    struct plan p;
    struct diag_list d;
    assert_int_equal(plan_text(sb.buf, "seed003.csv", 400, &t, &p, &d), 0);
    assert_int_equal(t.n, 27);
    assert_int_equal(p.n, 27);
    /* every task after what it depends on */
    size_t *pos = xcalloc(t.n, sizeof(size_t));
    for (size_t i = 0; i < p.n; i++)
        pos[p.order[i]] = i;
    for (size_t i = 0; i < t.n; i++)
        for (size_t k = 0; k < p.ndeps[i]; k++)
            assert_true(pos[p.deps[i][k]] < pos[i]);
    /* ties: high impact and high risk first, then the id in natural order */
    assert_string_equal(t.items[p.order[0]].id, "Y1-A.11");
    assert_string_equal(t.items[p.order[1]].id, "Y1-A.16");
    assert_string_equal(t.items[p.order[26]].id, "Y1-A.5");
    /* batches under 400 lines, but for Y1-A.9 (420), alone with a warning */
    for (size_t b = 0; b < p.nbatches; b++) {
        if (p.batches[b].oversize) {
            assert_int_equal(p.batches[b].n, 1);
            assert_string_equal(t.items[p.order[p.batches[b].first]].id, "Y1-A.9");
        } else {
            assert_true(p.batches[b].loc <= 400);
        }
    }
    assert_true(has_diag(&d, 10, "over the budget of 400"));
    /* the critical path: the most lines of review in one chain */
    assert_int_equal(p.ncritical, 6);
    assert_string_equal(t.items[p.critical[0]].id, "Y1-A.6");
    assert_string_equal(t.items[p.critical[5]].id, "Y1-A.15");
    assert_int_equal(p.critical_loc, 1820);
    free(pos);
    plan_release(&p, t.n);
    plan_tasks_release(&t);
    diag_list_release(&d);
    strbuf_release(&sb);
    free(path);
}

static void test_errors_with_lines(void **state)
{
    (void)state;
    const char *yaml = "tasks:\n"                                  /* 1 */
                       "  - { id: A, depends: [C], loc: 10 }\n"    /* 2 */
                       "  - { id: B, depends: [A, Z], loc: 10 }\n" /* 3 */
                       "  - { id: C, depends: [B], impact: X }\n"  /* 4 */
                       "  - { id: A, loc: many }\n"                /* 5 */
                       "  - { title: nameless, colour: red }\n"    /* 6 */
                       "  - { id: D, depends: [D] }\n";            /* 7 */
    struct plan_tasks t;
    struct plan p;
    struct diag_list d;
    assert_true(plan_text(yaml, "tasks.yaml", 400, &t, &p, &d) > 0);
    assert_true(has_diag(&d, 3, "depends on 'Z', which no task is"));
    assert_true(has_diag(&d, 4, "impact 'X' is not H, M or L"));
    assert_true(has_diag(&d, 5, "duplicate id 'A' (first on line 2)"));
    assert_true(has_diag(&d, 5, "loc 'many' is not a count"));
    assert_true(has_diag(&d, 6, "unknown key 'colour'"));
    assert_true(has_diag(&d, 6, "a task without an id"));
    /* the cycle with its path, and a task depending on itself */
    bool cycle = false, self = false;
    for (size_t i = 0; i < d.n; i++) {
        cycle |= strstr(d.items[i].msg, "a cycle of dependencies:") &&
                 strstr(d.items[i].msg, "A") && strstr(d.items[i].msg, "B") &&
                 strstr(d.items[i].msg, "C");
        self |= strstr(d.items[i].msg, "D -> D") != NULL;
    }
    assert_true(cycle);
    assert_true(self);
    plan_release(&p, t.n);
    plan_tasks_release(&t);
    diag_list_release(&d);
}

static void test_csv_and_yaml_agree(void **state)
{
    (void)state;
    const char *csv = "id,title,impact,risk,depends,loc\n"
                      "t1,\"first, with a comma\",L,L,,50\n"
                      "t2,\"a \"\"quoted\"\" title\nover two lines\",H,L,t1,500\n"
                      "t10,tenth,M,M,\"t1; t2\",20\n"
                      "t9,ninth,M,M,t1,20\n";
    const char *yaml = "tasks:\n"
                       "  - { id: t1, title: 'first, with a comma', impact: L, risk: L, loc: 50 }\n"
                       "  - { id: t2, impact: H, risk: L, depends: [t1], loc: 500 }\n"
                       "  - { id: t10, impact: M, risk: M, depends: [t1, t2], loc: 20 }\n"
                       "  - { id: t9, impact: M, risk: M, depends: t1, loc: 20 }\n";
    struct plan_tasks a, b;
    struct plan pa, pb;
    struct diag_list da, db;
    assert_int_equal(plan_text(csv, "t.csv", 100, &a, &pa, &da), 0);
    assert_int_equal(plan_text(yaml, "t.yaml", 100, &b, &pb, &db), 0);
    assert_string_equal(a.items[1].title, "a \"quoted\" title\nover two lines");
    assert_int_equal(a.items[3].line, 6); /* the quoted line break counts */
    const char *want[] = {"t1", "t2", "t9", "t10"};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(a.items[pa.order[i]].id, want[i]);
        assert_string_equal(b.items[pb.order[i]].id, want[i]);
    }
    /* t2 (500) is over the budget of 100: a batch of its own between t1's and t9's */
    assert_int_equal(pa.nbatches, 3);
    assert_true(pa.batches[1].oversize);
    plan_release(&pa, a.n);
    plan_release(&pb, b.n);
    plan_tasks_release(&a);
    plan_tasks_release(&b);
    diag_list_release(&da);
    diag_list_release(&db);
    /* a quote never closed */
    struct plan_tasks c;
    struct diag_list dc;
    diag_list_init(&dc, "bad.csv");
    plan_tasks_read("id\n\"x\n", 5, "bad.csv", &c, &dc);
    assert_true(has_diag(&dc, 2, "never closed"));
    plan_tasks_release(&c);
    diag_list_release(&dc);
}

static void test_id_order_and_globs(void **state)
{
    (void)state;
    assert_true(plan_id_cmp("Y1-A.9", "Y1-A.10") < 0);
    assert_int_equal(plan_id_cmp("a2", "a02"), 0); /* leading zeros do not count */
    assert_true(plan_id_cmp("b", "a10") > 0);
    assert_true(plan_id_cmp("x1y", "x1z") < 0);
    char *allow[] = {"src/imports/**", "docs/", "README.md"};
    assert_true(scope_allowed("src/imports/a/b.py", allow, 3));
    assert_true(scope_allowed("docs/x/y.md", allow, 3));
    assert_true(scope_allowed("README.md", allow, 3));
    assert_false(scope_allowed("src/other.py", allow, 3));
    assert_false(scope_allowed("docsx/a", allow, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed003),
        cmocka_unit_test(test_errors_with_lines),
        cmocka_unit_test(test_csv_and_yaml_agree),
        cmocka_unit_test(test_id_order_and_globs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
