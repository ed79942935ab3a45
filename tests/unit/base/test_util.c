/*
 * Unit tests for the small modules: suggest, num, strbuf, redact, diag.
 * Table-driven where the input is data.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>

#include "base/diag.h"
#include "base/num.h"
#include "base/redact.h"
#include "base/xalloc.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/utf8.h"

static void test_suggest_distance(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        size_t d;
    } cases[] = {
        {"ports", "ports", 0}, {"prots", "ports", 1},    {"port", "ports", 1},
        {"", "abc", 3},        {"kitten", "sitting", 3}, {"Environments", "environments", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(suggest_distance(cases[i].a, cases[i].b), cases[i].d);
}

static void test_suggest_closest(void **state)
{
    (void)state;
    const char *const keys[] = {"environments", "services", "ports", "config", NULL};
    assert_string_equal(suggest_closest("enviroments", keys), "environments");
    assert_string_equal(suggest_closest("servcies", keys), "services");
    assert_null(suggest_closest("banana", keys));
    assert_null(suggest_closest("x", keys));
}

static void test_num_parse(void **state)
{
    (void)state;
    long long v;
    double d;
    assert_int_equal(num_parse_ll("9000", &v), 0);
    assert_int_equal(v, 9000);
    assert_int_equal(num_parse_ll("-3", &v), 0);
    assert_int_equal(v, -3);
    const char *bad[] = {"", " 1", "1 ", "12abc", "99999999999999999999", "0x10", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(num_parse_ll(bad[i], &v), -1);
    assert_int_equal(num_parse_double("0.01", &d), 0);
    assert_true(d > 0.0099 && d < 0.0101);
    assert_int_equal(num_parse_double("nan", &d), -1);
    assert_int_equal(num_parse_double("1e999", &d), -1);
}

static void test_num_parse_duration(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        long long secs;
    } ok[] = {{"90", 90}, {"300s", 300}, {"5m", 300}, {"2h", 7200}, {"1d", 86400}, {"1h30m", 5400}};
    long long v;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(num_parse_duration(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].secs);
    }
    const char *bad[] = {"", "s", "5x", "5ms", "-5s", "1h30", "99999999999999999999d", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(num_parse_duration(bad[i], &v), -1);
}

static void test_strbuf_grow_and_limit(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    assert_string_equal(sb.buf, "");
    for (int i = 0; i < 1000; i++)
        strbuf_addf(&sb, "%d,", i);
    assert_int_equal(strlen(sb.buf), sb.len);
    strbuf_release(&sb);
    assert_string_equal(sb.buf, "");

    struct strbuf capped;
    strbuf_init(&capped, 4);
    assert_int_equal(strbuf_addstr(&capped, "abcd"), 0);
    assert_int_equal(strbuf_addch(&capped, 'e'), -1);
    assert_string_equal(capped.buf, "abcd");
    char *s = strbuf_detach(&capped, NULL);
    assert_string_equal(s, "abcd");
    free(s);
    assert_string_equal(capped.buf, "");
}

static void test_strbuf_read_file(void **state)
{
    (void)state;
    char path[] = "/tmp/otap-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello\n", 6), 6);
    close(fd);
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(strbuf_read_file(&sb, path, 0), 0);
    assert_string_equal(sb.buf, "hello\n");
    strbuf_reset(&sb);
    assert_int_equal(strbuf_read_file(&sb, path, 3), -1);
    assert_int_equal(errno, EFBIG);
    strbuf_release(&sb);
    unlink(path);
    assert_int_equal(strbuf_read_file(&sb, path, 0), -1);
    assert_int_equal(errno, ENOENT);
    strbuf_release(&sb);
}

static void test_redact_text(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"postgres -D /data", "postgres -D /data"},
        {"app --db postgresql://otap:s3cret@db:5432/x", "app --db postgresql://otap:***@db:5432/x"},
        {"postgresql+asyncpg://u:p%40ss@h/db", "postgresql+asyncpg://u:***@h/db"},
        {"http://host:8080/path", "http://host:8080/path"},
        {"run --password hunter2 --verbose", "run --password *** --verbose"},
        {"SECRET_KEY=abc123 PORT=9000", "SECRET_KEY=*** PORT=9000"},
        {"--api-token=\"a b\" x", "--api-token=\"***\" x"},
        {"JWT_SECRET: xyz", "JWT_SECRET: xyz"},
        /* passwords with reserved characters unencoded: the user-info runs to the last '@' */
        {"postgresql://app:Ab1/Cd2@Ef3Gh4Ij5Kl6@localhost:5432/app",
         "postgresql://app:***@localhost:5432/app"},
        {"postgresql://app:p?a#s:s@[::1]:5432/app", "postgresql://app:***@[::1]:5432/app"},
        {"'postgresql://u:pw@h/db' and more", "'postgresql://u:***@h/db' and more"},
        {"postgresql://h/db?user=u&password=p%40ss&sslmode=require",
         "postgresql://h/db?user=u&password=***&sslmode=require"},
        {"host=db port=5432 password='a b c' user=x", "host=db port=5432 password='***' user=x"},
        {"{\"excerpt\": \"DB_PASSWORD=abc\", \"x\": 1}",
         "{\"excerpt\": \"DB_PASSWORD=***\", \"x\": 1}"},
        {"mailto:someone@example.com", "mailto:someone@example.com"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *r = redact_text(cases[i].in);
        assert_string_equal(r, cases[i].out);
        free(r);
    }
}

static void test_diag_format_and_sort(void **state)
{
    (void)state;
    struct diag_list dl;
    diag_list_init(&dl, "otap.yaml");
    diag_add(&dl, DIAG_ERROR, 9, 2, "b");
    diag_add(&dl, DIAG_WARNING, 3, 5, "a");
    diag_add(&dl, DIAG_ERROR, 0, 0, "whole file");
    diag_sort(&dl);
    char *s = diag_format(&dl, &dl.items[0]);
    assert_string_equal(s, "otap.yaml: whole file");
    free(s);
    s = diag_format(&dl, &dl.items[1]);
    assert_string_equal(s, "otap.yaml:3:5: warning: a");
    free(s);
    assert_int_equal(diag_count(&dl, DIAG_ERROR), 2);
    diag_list_release(&dl);
}

static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int ok;
        size_t bad;
    } cases[] = {
        {"plain ascii", 1, 0},      {"caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x9a\x80", 1, 0}, /* é → 🚀 */
        {"caf\xe9", 0, 3},          /* Latin-1 */
        {"\xc0\xaf", 0, 0},         /* overlong '/' */
        {"\xe0\x80\xaf", 0, 0},     /* overlong */
        {"\xed\xa0\x80", 0, 0},     /* surrogate */
        {"\xf4\x90\x80\x80", 0, 0}, /* above U+10FFFF */
        {"ab\xe2\x86", 0, 2},       /* truncated */
        {"% {\xff}", 0, 3},         /* hung libfyaml 0.7.12 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bad = 99;
        assert_int_equal(utf8_valid(cases[i].s, strlen(cases[i].s), &bad), cases[i].ok);
        if (!cases[i].ok)
            assert_int_equal(bad, cases[i].bad);
    }
    int line, col;
    const char *text = "a\n\xc3\xa9x\xff";
    utf8_position(text, 5, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 3);
}

/* xorshift: the same passwords on every run, so a failure can be replayed */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* 8 to 40 characters of printable ASCII, now and then a UTF-8 letter. */
static void gen_password(char *out, size_t cap)
{
    static const char *const utf8[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91", "\xd0\x96"};
    size_t n = 8 + rng() % 33, len = 0;
    for (size_t i = 0; i < n && len + 5 < cap; i++) {
        if (rng() % 12 == 0) {
            const char *u = utf8[rng() % 4];
            memcpy(out + len, u, strlen(u));
            len += strlen(u);
        } else {
            out[len++] = (char)(0x21 + rng() % 94);
        }
    }
    out[len] = '\0';
}

/* Does text hold the secret, or any REDACT_PIECE-byte piece of it? */
static bool leaks(const char *text, const char *secret)
{
    size_t n = strlen(secret);
    for (size_t i = 0; i + REDACT_PIECE <= n; i++)
        if (memmem(text, strlen(text), secret + i, REDACT_PIECE))
            return true;
    return n < REDACT_PIECE && strstr(text, secret);
}

/*
 * The property: a password registered from the config (as a URL's, a
 * secret's, POSTGRES_PASSWORD's) never survives redaction, whole or in a
 * 6-byte piece, in any of the forms output gives it: plain, in a URL as
 * typed or percent-encoded, JSON-escaped, quoted in pieces by a client
 * that split the URL at a reserved character.
 */
static void test_redactor_property(void **state)
{
    (void)state;
    for (int round = 0; round < 2000; round++) {
        char pw[256];
        gen_password(pw, sizeof pw);
        struct redactor r = REDACTOR_INIT;
        char *url = xasprintf("postgresql://app:%s@db.internal:5432/app", pw);
        if (round % 3 == 0)
            redactor_add_from_value(&r, url);
        else
            redactor_add(&r, pw);
        json_t *js = json_string(pw);
        char *json = js ? json_dumps(js, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : xstrdup("");
        json_decref(js);
        struct strbuf enc = STRBUF_INIT;
        for (const unsigned char *p = (const unsigned char *)pw; *p; p++)
            strbuf_addf(&enc, isalnum(*p) ? "%c" : "%%%02X", *p);
        const char *half = pw + strlen(pw) / 3;
        char *text = xasprintf("error: cannot connect to '%s': bad\n{\"value\": %s}\n"
                               "SECRET_KEY=%s POSTGRES_PASSWORD %s\nencoded %s\n"
                               "could not translate host name \"%s@db\"\n",
                               url, json, pw, pw, enc.buf, half);
        size_t outlen;
        char *out = redactor_apply(&r, text, strlen(text), &outlen);
        if (leaks(out, pw) || (strlen(half) >= REDACT_PIECE && leaks(out, half)))
            fail_msg("round %d leaks the password '%s' in:\n%s", round, pw, out);
        free(out);
        free(text);
        strbuf_release(&enc);
        free(json);
        free(url);
        redactor_release(&r);
    }
}

/* Ordinary output stays as it is: only what was registered is hidden. */
static void test_redactor_leaves_the_rest(void **state)
{
    (void)state;
    struct redactor r = REDACTOR_INIT;
    redactor_add(&r, "short"); /* under REDACT_MIN_SECRET: not registered */
    redactor_add(&r, "Zq8vN3xT1pL6wR9y");
    const char *text = "the config contract holds (short, 9 variables) --tokens FILE\n";
    char *out = redactor_apply(&r, text, strlen(text), NULL);
    assert_string_equal(out, text);
    free(out);
    redactor_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggest_distance),
        cmocka_unit_test(test_suggest_closest),
        cmocka_unit_test(test_num_parse),
        cmocka_unit_test(test_num_parse_duration),
        cmocka_unit_test(test_strbuf_grow_and_limit),
        cmocka_unit_test(test_strbuf_read_file),
        cmocka_unit_test(test_redact_text),
        cmocka_unit_test(test_redactor_property),
        cmocka_unit_test(test_redactor_leaves_the_rest),
        cmocka_unit_test(test_diag_format_and_sort),
        cmocka_unit_test(test_utf8_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
