/*
 * The unsafe-migration lint against its fixtures: tests/dblint/ holds a
 * bad and a good migration per rule, and files about acknowledgements.
 * Each file says what it expects in its first lines:
 *
 *     -- expect: RULE LINE       an open finding
 *     -- expect-ack: RULE LINE   an acknowledged one
 *     -- expect: none
 *
 * and the findings must be exactly those. Every rule must have a bad
 * fixture that finds it and a good one that does not.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db/dblint.h"
#include "db/migration.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "RULE LINE" or "ack RULE LINE" lines, sorted and joined by '\n'. */
static char *expected(const char *text)
{
    char **lines = NULL;
    size_t n = 0, alloc = 0;
    const char *p = text;
    while (!strncmp(p, "-- expect", 9)) {
        const char *nl = strchr(p, '\n');
        char rule[64];
        int line;
        if (sscanf(p, "-- expect-ack: %63s %d", rule, &line) == 2)
            *XPUSH(&lines, &n, &alloc) = xasprintf("ack %s %d", rule, line);
        else if (sscanf(p, "-- expect: %63s %d", rule, &line) == 2)
            *XPUSH(&lines, &n, &alloc) = xasprintf("%s %d", rule, line);
        p = nl ? nl + 1 : p + strlen(p);
    }
    if (n)
        qsort(lines, n, sizeof(*lines), by_name);
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < n; i++)
        strbuf_addf(&sb, "%s\n", lines[i]);
    xfree_strv(lines, n);
    return strbuf_detach(&sb, NULL);
}

static char *found(const struct dblint_report *r)
{
    char **lines = xcalloc(r->n + 1, sizeof(*lines));
    for (size_t i = 0; i < r->n; i++)
        lines[i] = xasprintf("%s%s %d", r->items[i].acknowledged ? "ack " : "",
                             r->items[i].rule->id, r->items[i].line);
    if (r->n)
        qsort(lines, r->n, sizeof(*lines), by_name);
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < r->n; i++)
        strbuf_addf(&sb, "%s\n", lines[i]);
    xfree_strv(lines, r->n);
    return strbuf_detach(&sb, NULL);
}

static void test_dblint_fixtures(void **state)
{
    (void)state;
    const char *src = getenv("SRC");
    assert_non_null(src);
    char *dir = xasprintf("%s/tests/dblint", src);
    DIR *d = opendir(dir);
    assert_non_null(d);
    char **files = NULL;
    size_t nfiles = 0, alloc = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".sql"))
            *XPUSH(&files, &nfiles, &alloc) = xstrdup(de->d_name);
    closedir(d);
    assert_true(nfiles > 0);

    /* per rule: did a bad fixture find it, did a good fixture stay quiet */
    size_t nrules = 0;
    while (dblint_rules[nrules].id)
        nrules++;
    bool *seen_bad = xcalloc(nrules, sizeof(bool)), *seen_good = xcalloc(nrules, sizeof(bool));
    int failures = 0;
    for (size_t i = 0; i < nfiles; i++) {
        char *path = xasprintf("%s/%s", dir, files[i]);
        struct strbuf sb = STRBUF_INIT;
        assert_int_equal(strbuf_read_file(&sb, path, 0), 0);
        size_t len;
        char *text = strbuf_detach(&sb, &len);
        struct diag_list dl;
        diag_list_init(&dl, "tests/dblint");
        struct migration mg;
        if (migration_parse_take(&mg, files[i], files[i], text, len, &dl) != 0) {
            print_error("%s: does not parse\n", files[i]);
            failures++;
        }
        struct dblint_report rep = {0};
        dblint_migration(&mg, &rep);
        char *want = expected(mg.text), *have = found(&rep);
        if (strcmp(want, have)) {
            print_error("%s:\n  want:\n%s  have:\n%s", files[i], want, have);
            failures++;
        }
        for (size_t r = 0; r < nrules; r++) {
            char *bad = xasprintf("%s_bad.sql", dblint_rules[r].id);
            char *good = xasprintf("%s_good.sql", dblint_rules[r].id);
            for (char *p = bad; *p; p++)
                *p = *p == '-' ? '_' : *p;
            for (char *p = good; *p; p++)
                *p = *p == '-' ? '_' : *p;
            size_t fl = strlen(files[i]);
            if (fl > strlen(bad) && !strcmp(files[i] + fl - strlen(bad), bad) &&
                strstr(have, dblint_rules[r].id))
                seen_bad[r] = true;
            if (fl > strlen(good) && !strcmp(files[i] + fl - strlen(good), good))
                seen_good[r] = !strstr(have, dblint_rules[r].id);
            free(bad);
            free(good);
        }
        free(want);
        free(have);
        dblint_report_release(&rep);
        migration_release(&mg);
        diag_list_release(&dl);
        free(path);
    }
    for (size_t r = 0; r < nrules; r++) {
        /* the rules about otap:allow comments are covered by the allow fixtures */
        if (!strncmp(dblint_rules[r].id, "allow-", 6))
            continue;
        if (!seen_bad[r] || !seen_good[r]) {
            print_error("rule %s lacks a %s fixture\n", dblint_rules[r].id,
                        !seen_bad[r] ? "bad" : "good");
            failures++;
        }
    }
    xfree_strv(files, nfiles);
    free(seen_bad);
    free(seen_good);
    free(dir);
    assert_int_equal(failures, 0);
}

static void test_dblint_rules_sorted_and_documented(void **state)
{
    (void)state;
    for (size_t i = 0; dblint_rules[i].id; i++) {
        assert_non_null(dblint_rules[i].summary);
        assert_non_null(dblint_rules[i].fix);
        if (i)
            assert_true(strcmp(dblint_rules[i - 1].id, dblint_rules[i].id) < 0);
        assert_ptr_equal(dblint_rule_find(dblint_rules[i].id), &dblint_rules[i]);
    }
    assert_null(dblint_rule_find("no-such-rule"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dblint_fixtures),
        cmocka_unit_test(test_dblint_rules_sorted_and_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
