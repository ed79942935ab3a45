/*
 * A backup object's making and reading, through a real directory target:
 * zstd alone and with AES-256-GCM round trip with the same SHA-256 as
 * stored; a changed byte, a cut-off end and a wrong key are each found;
 * keys are read as hex or base64 and refused otherwise; a catalog entry
 * and a drill's facts compare.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backup/codec.h"
#include "backup/facts.h"
#include "backup/target.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/otap-codec-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    return 0;
}

static struct bk_target *target(void)
{
    char *spec = xasprintf("dir:%s", dir);
    struct bk_target_cfg cfg = {.target = spec, .root = "/"};
    struct bk_target *t;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(bk_target_open(&t, &cfg, &err), 0);
    free(spec);
    return t;
}

/* Some text that compresses, n bytes */
static char *payload(size_t n)
{
    char *p = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)("otap backup "[i % 12] + (i / 4096) % 3);
    return p;
}

static void write_object(struct bk_target *t, const char *name, const char *data, size_t n,
                         const unsigned char *key, char sha[SHA256_HEX_LEN + 1], long long *stored)
{
    struct otap_err err = OTAP_ERR_INIT;
    struct bk_put *put;
    assert_int_equal(bk_put_begin(t, name, &put, &err), 0);
    struct bk_writer *w;
    assert_int_equal(bk_writer_open(&w, put, 3, 2, key, &err), 0);
    /* in uneven pieces, as pg_dump hands them over */
    for (size_t off = 0; off < n;) {
        size_t k = off % 7 == 0 ? 1000 : 65537;
        k = k < n - off ? k : n - off;
        assert_int_equal(bk_writer_write(w, data + off, k, &err), 0);
        off += k;
    }
    long long raw;
    assert_int_equal(bk_writer_finish(w, sha, &raw, stored, &err), 0);
    assert_int_equal(raw, (long long)n);
    assert_int_equal(bk_put_finish(put, &err), 0);
}

static int gather(void *ctx, const unsigned char *d, size_t len)
{
    strbuf_add(ctx, d, len);
    return 0;
}

/* Reads name back; returns bk_reader_finish's code, the plain bytes in out. */
static int read_object(struct bk_target *t, const char *name, const unsigned char *key,
                       struct strbuf *out, char sha[SHA256_HEX_LEN + 1], long long *size,
                       struct otap_err *err)
{
    struct bk_reader *r;
    bk_reader_open(&r, key, gather, out, false, err);
    int rc = bk_get(t, name, bk_reader_push, r, size, err);
    if (rc < 0) {
        bk_reader_free(r);
        return rc;
    }
    return bk_reader_finish(r, sha, NULL, err);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct bk_target *t = target();
    size_t n = 3u << 20;
    char *data = payload(n);
    unsigned char key[BK_KEY_LEN];
    for (size_t i = 0; i < BK_KEY_LEN; i++)
        key[i] = (unsigned char)(i * 7 + 1);
    for (int enc = 0; enc < 2; enc++) {
        const char *name = enc ? "x.dump.zst.enc" : "x.dump.zst";
        char sha[SHA256_HEX_LEN + 1], back[SHA256_HEX_LEN + 1];
        long long stored, size;
        write_object(t, name, data, n, enc ? key : NULL, sha, &stored);
        assert_true(stored < (long long)n / 4); /* it compressed */
        struct strbuf out = STRBUF_INIT;
        struct otap_err err = OTAP_ERR_INIT;
        assert_int_equal(read_object(t, name, enc ? key : NULL, &out, back, &size, &err), 0);
        assert_int_equal(out.len, n);
        assert_memory_equal(out.buf, data, n);
        assert_string_equal(sha, back);
        assert_int_equal(size, stored);
        strbuf_release(&out);
    }
    free(data);
    bk_target_close(t);
}

/* Rewrites byte at of name (or cuts it to len when len >= 0). */
static void damage(const char *name, long at, long len)
{
    char *p = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    if (len >= 0) {
        assert_int_equal(ftruncate(fileno(f), len), 0);
    } else {
        fseek(f, at, SEEK_SET);
        int c = fgetc(f);
        fseek(f, at, SEEK_SET);
        fputc(c ^ 0x40, f);
    }
    fclose(f);
    free(p);
}

static void test_damage_is_found(void **state)
{
    (void)state;
    struct bk_target *t = target();
    size_t n = 1u << 20;
    char *data = payload(n);
    unsigned char key[BK_KEY_LEN] = {9}, other[BK_KEY_LEN] = {8};
    static const struct {
        bool enc;
        long at, len;
        const unsigned char *read_key; /* NULL: the right one */
        const char *want;
    } cases[] = {
        {false, 500, -1, NULL, "does not decompress"},
        {false, 0, 100, NULL, "ends early"},
        {true, 600, -1, NULL, "authentication tag"},
        {true, 0, 300, NULL, "authentication tag"},
        {true, 0, 10, NULL, "truncated"},
        {true, -1, -1, (const unsigned char *)"", "authentication tag"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char sha[SHA256_HEX_LEN + 1], back[SHA256_HEX_LEN + 1];
        long long stored, size;
        write_object(t, "d", data, n, cases[i].enc ? key : NULL, sha, &stored);
        if (cases[i].at >= 0 || cases[i].len >= 0)
            damage("d", cases[i].at, cases[i].len);
        const unsigned char *rk = cases[i].enc ? key : NULL;
        if (cases[i].read_key)
            rk = other;
        struct strbuf out = STRBUF_INIT;
        struct otap_err err = OTAP_ERR_INIT;
        int rc = read_object(t, "d", rk, &out, back, &size, &err);
        if (rc != OTAP_EFOUND || !strstr(err.msg, cases[i].want))
            fail_msg("case %zu: rc %d, %s", i, rc, err.msg ? err.msg : "no message");
        otap_err_release(&err);
        strbuf_release(&out);
    }
    free(data);
    bk_target_close(t);
}

static void test_keys(void **state)
{
    (void)state;
    unsigned char k[BK_KEY_LEN];
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(
        bk_key_parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", k, "K",
                     &err),
        0);
    assert_int_equal(k[0], 0);
    assert_int_equal(k[31], 0x1f);
    /* the same 32 bytes in base64 */
    assert_int_equal(bk_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", k, "K", &err), 0);
    assert_int_equal(k[31], 0x1f);
    const char *bad[] = {
        "", "short", "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", "correct horse battery staple"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = (struct otap_err)OTAP_ERR_INIT;
        assert_int_equal(bk_key_parse(bad[i], k, "BACKUP_KEY", &err), OTAP_EINVALID);
        assert_non_null(strstr(err.msg, "BACKUP_KEY is not a 256-bit key"));
        if (*bad[i])
            assert_null(strstr(err.msg, bad[i]));
        otap_err_release(&err);
    }
}

static void test_compare(void **state)
{
    (void)state;
    json_t *want = json_pack("{s:s, s:[s,s], s:{s:i, s:i}}", "schema_hash", "aaa", "migrations",
                             "1", "2", "tables", "public.a", 5, "public.b", 1);
    json_t *same = json_deep_copy(want);
    json_t *out = json_array();
    assert_int_equal(bk_facts_compare(want, same, out), 0);
    json_t *got = json_pack("{s:s, s:[s], s:{s:i, s:i}}", "schema_hash", "bbb", "migrations", "1",
                            "tables", "public.a", 4, "public.c", 0);
    assert_int_equal(bk_facts_compare(want, got, out), 5);
    const char *want_msgs[] = {"the schema differs", "the applied migrations differ",
                               "table public.a has 4 rows restored, 5 in the catalog",
                               "table public.b is missing", "table public.c is in the restored"};
    for (size_t i = 0; i < 5; i++)
        assert_non_null(strstr(json_string_value(json_array_get(out, i)), want_msgs[i]));
    json_decref(out);
    json_decref(got);
    json_decref(same);
    json_decref(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_is_found, setup, teardown),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
