/*
 * Unit tests for src/lib/base/fileio.c's walk and the small modules this
 * wave added to base: strvec, entropy, monotime, utf8_seq_len.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/entropy.h"
#include "base/fileio.h"
#include "base/monotime.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/utf8.h"
#include "base/xalloc.h"

static void put(const char *dir, const char *rel, const char *text)
{
    char *p = xasprintf("%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static void sub(const char *dir, const char *rel)
{
    char *p = xasprintf("%s/%s", dir, rel);
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
}

struct seen {
    struct strbuf sb;
};

static int record(void *ctx, const char *path, const char *rel, const struct stat *st)
{
    (void)path;
    struct seen *s = ctx;
    strbuf_addf(&s->sb, "%s%s%s", s->sb.len ? " " : "", rel, S_ISDIR(st->st_mode) ? "/" : "");
    /* prune: nothing below a directory called skip is visited */
    return !strcmp(rel, "skip") ? FILEIO_WALK_PRUNE : 0;
}

static void test_fileio_walk_sorted_pruned_no_links(void **state)
{
    (void)state;
    char dir[] = "/tmp/otap-walk-XXXXXX";
    assert_non_null(mkdtemp(dir));
    sub(dir, "b");
    sub(dir, "a");
    sub(dir, "skip");
    put(dir, "a.txt", "x");
    put(dir, "a/z", "x");
    put(dir, "a/m", "x");
    put(dir, "skip/hidden", "x");
    char *target = xasprintf("%s/a", dir), *link = xasprintf("%s/b/loop", dir);
    assert_int_equal(symlink(target, link), 0);
    struct seen s = {STRBUF_INIT};
    struct fileio_walk w = {.visit = record, .ctx = &s};
    assert_int_equal(fileio_walk(dir, &w, NULL), 0);
    /* byte order per directory, depth first; the link reported, not followed */
    assert_string_equal(s.sb.buf, "a/ a/m a/z a.txt b/ b/loop skip/");
    strbuf_release(&s.sb);

    /* an unreadable root: the error callback gets it, or the walk fails naming it */
    char *gone = xasprintf("%s/nowhere", dir);
    struct otap_err err = OTAP_ERR_INIT;
    struct fileio_walk w2 = {.visit = record, .ctx = &s};
    assert_int_equal(fileio_walk(gone, &w2, &err), OTAP_EEXTERNAL);
    assert_non_null(strstr(err.msg, "cannot list"));
    assert_non_null(strstr(err.msg, "nowhere"));
    otap_err_release(&err);
    strbuf_release(&s.sb);

    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(gone);
    free(target);
    free(link);
}

static void test_strvec(void **state)
{
    (void)state;
    struct strvec v = STRVEC_INIT;
    strvec_release(&v); /* an unused list releases cleanly */
    for (int i = 0; i < 20; i++)
        strvec_pushf(&v, "item %d", i);
    strvec_push(&v, "last");
    strvec_push_owned(&v, xstrdup("owned"));
    assert_int_equal(v.n, 22);
    assert_string_equal(v.items[19], "item 19");
    assert_string_equal(v.items[21], "owned");
    strvec_release(&v);
    assert_int_equal(v.n, 0);
    assert_null(v.items);
}

static void test_entropy(void **state)
{
    (void)state;
    assert_true(entropy_per_byte("", 0) == 0);
    assert_true(entropy_per_byte("aaaa", 4) == 0);
    assert_true(entropy_per_byte("abab", 4) == 1);
    assert_true(entropy_per_byte("abcd", 4) == 2);
    /* all 256 byte values once: 8 bits per byte */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    assert_true(entropy_per_byte(all, 256) > 7.999);
}

static void test_monotime(void **state)
{
    (void)state;
    long long a = monotime_ns();
    long long b = monotime_ns();
    assert_true(b >= a);
    assert_true(monotime_ms() >= a / 1000000);
    assert_true(monotime_seconds_since(a) >= 0);
}

static void test_utf8_seq_len(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;
    } cases[] = {
        {"a", 1},        {"\xc3\xa9", 2},     {"\xe2\x82\xac", 3}, {"\xf0\x9f\x98\x80", 4},
        {"\xc0\xaf", 0}, {"\xe0\x80\xaf", 0}, {"\xed\xa0\x80", 0}, {"\xf4\x90\x80\x80", 0},
        {"\x80", 0},     {"\xc3", 0},         {"\xe2\x82", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(utf8_seq_len(cases[i].s, strlen(cases[i].s)), cases[i].n);
    assert_int_equal(utf8_seq_len("x", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fileio_walk_sorted_pruned_no_links),
        cmocka_unit_test(test_strvec),
        cmocka_unit_test(test_entropy),
        cmocka_unit_test(test_monotime),
        cmocka_unit_test(test_utf8_seq_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
