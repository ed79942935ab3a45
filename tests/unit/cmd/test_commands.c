/*
 * The commands are data: the top-level table is sorted and unique, and
 * every command and verb, however deep, has a summary, something to run,
 * well-formed options and generated help. The option parser is tested
 * here too, on a table of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "base/err.h"

static size_t nverbs_seen;

static void check_entry(const struct cmd *c, const char *path)
{
    assert_non_null(c->name);
    if (!(c->summary && strlen(c->summary) > 10))
        fail_msg("'%s' has no summary", path);
    /* something to run: run(), verbs, or both (otap serve) */
    if (!c->run && !c->verbs)
        fail_msg("'%s' has neither run() nor verbs", path);
    size_t n = 0;
    for (const struct cli_opt *o = c->opts; o && o->name; o++, n++) {
        if (!(o->help && *o->help))
            fail_msg("'%s --%s' has no help", path, o->name);
        if (o->name[0] == '-')
            fail_msg("'%s': option names are written without dashes ('%s')", path, o->name);
        for (const struct cli_opt *p = c->opts; p != o; p++) {
            if (!strcmp(p->name, o->name))
                fail_msg("'%s' declares --%s twice", path, o->name);
            if (o->short_name && p->short_name == o->short_name)
                fail_msg("'%s' declares -%c twice", path, o->short_name);
        }
    }
    assert_true(n <= CLI_OPTS_MAX);
    for (const struct cmd *v = c->verbs; v && v->name; v++) {
        char sub[128];
        snprintf(sub, sizeof sub, "%s %s", path, v->name);
        for (const struct cmd *w = c->verbs; w != v; w++)
            if (!strcmp(w->name, v->name))
                fail_msg("'%s' has the verb '%s' twice", path, v->name);
        nverbs_seen++;
        check_entry(v, sub);
    }
}

static void test_commands_sorted_unique_with_help(void **state)
{
    (void)state;
    size_t n = 0;
    for (const struct cmd *const *c = otap_commands; *c; c++, n++) {
        char path[64];
        snprintf(path, sizeof path, "otap %s", (*c)->name);
        check_entry(*c, path);
        if (c != otap_commands)
            assert_true(strcmp(c[-1]->name, (*c)->name) < 0);
        assert_ptr_equal(cli_find_command((*c)->name), *c);
    }
    assert_true(n >= 20);
    assert_true(nverbs_seen >= 30);
    assert_null(cli_find_command("nope"));
    assert_string_equal(cli_suggest_command("chekc"), "check");
}

static int noop(struct cli *cli, const struct cli_args *a)
{
    (void)cli;
    (void)a;
    return 0;
}

static const struct cmd parse_cmd = {
    .name = "t",
    .summary = "a command for the parser's tests",
    .opts =
        (const struct cli_opt[]){
            {"env", 'e', "ENV", "an option with an argument"},
            {"dry-run", 'n', NULL, "a flag"},
            {"to", 0, "VERSION", "a long option only"},
            {0},
        },
    .run = noop,
};

static int parse(char **argv, struct cli_args *a, unsigned flags)
{
    struct cli cli = {.json = true, .flags = flags}; /* errors as JSON on stdout, not stderr */
    int argc = 0;
    while (argv[argc])
        argc++;
    return cli_parse(&cli, &parse_cmd, argc, argv, a);
}

static void test_commands_parse_options(void **state)
{
    (void)state;
    struct cli_args a;
    char *v1[] = {"t", "one", "--env", "dev", "-n", "two", "--to=3", NULL};
    assert_int_equal(parse(v1, &a, 0), 0);
    assert_string_equal(cli_opt(&a, "env"), "dev");
    assert_true(cli_flag(&a, "dry-run"));
    assert_string_equal(cli_opt(&a, "to"), "3");
    assert_int_equal(a.argc, 3);
    assert_string_equal(a.argv[1], "one");
    assert_string_equal(a.argv[2], "two");
    assert_null(a.argv[3]);
    assert_int_equal(a.dashdash, 0);
    cli_args_release(&a);

    /* -eVALUE, the last one wins, "--" ends options */
    char *v2[] = {"t", "-eprod", "-e", "test", "--", "--to", "-n", NULL};
    assert_int_equal(parse(v2, &a, 0), 0);
    assert_string_equal(cli_opt(&a, "env"), "test");
    assert_false(cli_flag(&a, "dry-run"));
    assert_null(cli_opt(&a, "to"));
    assert_int_equal(a.argc, 3);
    assert_int_equal(a.dashdash, 1);
    assert_string_equal(a.argv[1], "--to");
    cli_args_release(&a);

    /* options first: the first operand ends them (otap run) */
    char *v3[] = {"t", "-n", "cmd", "--env", "x", NULL};
    assert_int_equal(parse(v3, &a, CMD_OPTIONS_FIRST), 0);
    assert_true(cli_flag(&a, "dry-run"));
    assert_null(cli_opt(&a, "env"));
    assert_int_equal(a.argc, 4);
    cli_args_release(&a);

    /* a lone "-" is an operand (standard input) */
    char *v4[] = {"t", "-", NULL};
    assert_int_equal(parse(v4, &a, 0), 0);
    assert_int_equal(a.argc, 2);
    cli_args_release(&a);
}

static void test_commands_parse_errors(void **state)
{
    (void)state;
    struct cli_args a;
    char *unknown[] = {"t", "--nope", NULL};
    char *missing[] = {"t", "--env", NULL};
    char *value_on_flag[] = {"t", "--dry-run=yes", NULL};
    char *short_unknown[] = {"t", "-x", NULL};
    char *prefix[] = {"t", "--en", "dev", NULL};
    char **bad[] = {unknown, missing, value_on_flag, short_unknown, prefix};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i], &a, 0), OTAP_EUSAGE);
        assert_null(a.argv);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands_sorted_unique_with_help),
        cmocka_unit_test(test_commands_parse_options),
        cmocka_unit_test(test_commands_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
