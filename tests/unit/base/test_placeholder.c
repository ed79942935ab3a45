/*
 * Unit tests for src/lib/base/placeholder.c: the one list of values that
 * stand where a secret goes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/placeholder.h"

static bool ph(const char *s)
{
    return placeholder_value(s, strlen(s));
}

static void test_words_and_shapes(void **state)
{
    (void)state;
    assert_true(ph("changeme"));
    assert_true(ph("Your-API-Key-Here"));
    assert_true(ph("${DB_PASSWORD}"));
    assert_true(ph("<token>"));
    assert_true(ph("********"));
    assert_true(ph("PASSWORD"));
    assert_true(ph(""));
    assert_false(ph("Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB"));
    assert_false(ph("8ae31cacf141669ddfb5da"));
}

/* seven characters in a row of the alphabet or the digits: typed, not drawn */
static void test_keyboard_runs(void **state)
{
    (void)state;
    assert_true(ph("1234567"));
    assert_true(ph("12345678-ABCD-ABCD-ABCD-1234567890AB"));
    assert_true(ph("sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx"));
    assert_true(ph("AIzaSyabcdefghijklmnopqrstuvwxyz1234567"));
    assert_true(ph("xKLMNOPQx"));
    /* six is not enough, and a run must not cross from digits to letters */
    assert_false(ph("q9abcdefZ2"));
    assert_false(ph("x789:;<=y1Q"));
    /* past PLACEHOLDER_MAX words no longer count, runs still do */
    char longv[160];
    memset(longv, 'Q', sizeof longv);
    for (size_t i = 0; i < sizeof longv - 1; i++)
        longv[i] = "Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB"[i % 32];
    longv[sizeof longv - 1] = '\0';
    assert_false(ph(longv));
    memcpy(longv + 50, "mnopqrs", 7);
    assert_true(ph(longv));
}

/* Property: random base62 tokens past PLACEHOLDER_MAX are never taken for typed runs. */
static void test_random_tokens_are_not_runs(void **state)
{
    (void)state;
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char tok[121];
    for (int n = 0; n < 20000; n++) {
        for (size_t i = 0; i < sizeof tok - 1; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            tok[i] = b62[x % 62];
        }
        tok[sizeof tok - 1] = '\0';
        if (ph(tok))
            fail_msg("a random token was taken for a placeholder: %s", tok);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_and_shapes),
        cmocka_unit_test(test_keyboard_runs),
        cmocka_unit_test(test_random_tokens_are_not_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
