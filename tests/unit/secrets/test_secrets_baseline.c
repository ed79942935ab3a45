/*
 * Unit tests for src/lib/secrets/secrets_baseline.c: where the baseline
 * lives, reading it (and every way a file can be wrong), lookups.
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

#include "secrets/secrets_baseline.h"
#include "base/xalloc.h"

static char *write_tmp(const char *text)
{
    char *path = xstrdup("/tmp/otap-baseline-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_secrets_baseline_load(void **state)
{
    (void)state;
    struct secrets_baseline b;
    struct otap_err err = OTAP_ERR_INIT;
    char *good = write_tmp("{\"version\": 1, \"tool\": \"otap\", \"findings\": ["
                           "{\"fingerprint\": \"ffff\"}, {\"fingerprint\": \"0000\"}]}");
    assert_int_equal(secrets_baseline_load(&b, good, true, &err), 0);
    assert_int_equal(b.n, 2);
    assert_true(secrets_baseline_has(&b, "0000"));
    assert_true(secrets_baseline_has(&b, "ffff"));
    assert_false(secrets_baseline_has(&b, "1234"));
    secrets_baseline_release(&b);

    /* missing: empty unless the user named that file */
    assert_int_equal(secrets_baseline_load(&b, "/tmp/otap-no-such-baseline", false, &err), 0);
    assert_int_equal(b.n, 0);
    assert_int_equal(secrets_baseline_load(&b, "/tmp/otap-no-such-baseline", true, &err),
                     OTAP_EINVALID);
    otap_err_release(&err);

    static const char *const bad[] = {
        "not json",
        "{\"version\": 2, \"findings\": []}",
        "{\"version\": 1}",
        "{\"version\": 1, \"findings\": [{\"rule\": \"x\"}]}",
        "{\"version\": 1, \"findings\": [], \"findings\": []}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *p = write_tmp(bad[i]);
        assert_int_equal(secrets_baseline_load(&b, p, false, &err), OTAP_EINVALID);
        assert_non_null(strstr(err.msg, p)); /* the message names the file */
        assert_int_equal(b.n, 0);            /* nothing half-loaded */
        otap_err_release(&err);
        unlink(p);
        free(p);
    }
    unlink(good);
    free(good);
}

static void test_secrets_baseline_path(void **state)
{
    (void)state;
    char *p = secrets_baseline_path(NULL);
    assert_string_equal(p, SECRETS_BASELINE_DEFAULT);
    free(p);
    struct manifest m = {.dir = "/proj"};
    p = secrets_baseline_path(&m);
    assert_string_equal(p, "/proj/.otap-secrets-baseline.json");
    free(p);
    m.secrets.baseline = "ci/accepted.json";
    p = secrets_baseline_path(&m);
    assert_string_equal(p, "/proj/ci/accepted.json");
    free(p);
    m.secrets.baseline = "/etc/otap/accepted.json";
    p = secrets_baseline_path(&m);
    assert_string_equal(p, "/etc/otap/accepted.json");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_baseline_load),
        cmocka_unit_test(test_secrets_baseline_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
