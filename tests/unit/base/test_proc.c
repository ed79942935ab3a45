/*
 * Unit tests for src/lib/base/proc.c's proc_relay: lines as they come,
 * from which stream, the wait status, and a program that is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "base/proc.h"
#include "base/strbuf.h"

extern char **environ;

struct seen {
    struct strbuf out, err;
};

static void collect(void *ctx, bool from_stderr, const char *line, size_t len)
{
    struct seen *s = ctx;
    struct strbuf *b = from_stderr ? &s->err : &s->out;
    strbuf_add(b, line, len);
    strbuf_add(b, "|", 1);
}

static void test_relay_lines_and_status(void **state)
{
    (void)state;
    struct seen s = {STRBUF_INIT, STRBUF_INIT};
    char *argv[] = {"sh", "-c", "echo one; echo two >&2; printf 'no end'; exit 7", NULL};
    int status = 0;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(proc_relay(argv, environ, NULL, collect, &s, &status, &err), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 7);
    assert_string_equal(s.out.buf, "one|no end|");
    assert_string_equal(s.err.buf, "two|");
    strbuf_release(&s.out);
    strbuf_release(&s.err);
}

static void test_relay_env_and_cwd(void **state)
{
    (void)state;
    struct seen s = {STRBUF_INIT, STRBUF_INIT};
    char *argv[] = {"sh", "-c", "echo \"$ONLY\"; pwd", NULL};
    char *envp[] = {"ONLY=this", "PATH=/usr/bin:/bin", NULL};
    int status = 0;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(proc_relay(argv, envp, "/", collect, &s, &status, &err), 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(s.out.buf, "this|/|");
    strbuf_release(&s.out);
    strbuf_release(&s.err);
}

static void test_relay_missing_program(void **state)
{
    (void)state;
    struct seen s = {STRBUF_INIT, STRBUF_INIT};
    char *argv[] = {"otap-no-such-program", NULL};
    int status = 0;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(proc_relay(argv, environ, NULL, collect, &s, &status, &err), OTAP_EEXTERNAL);
    assert_non_null(strstr(err.msg, "cannot run 'otap-no-such-program'"));
    otap_err_release(&err);
    strbuf_release(&s.out);
    strbuf_release(&s.err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay_lines_and_status),
        cmocka_unit_test(test_relay_env_and_cwd),
        cmocka_unit_test(test_relay_missing_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
