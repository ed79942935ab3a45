/*
 * Unit tests for src/lib/release/commit_msg.c: a table of messages and
 * the verdict commitlint's conventional preset gives each (the rules that
 * fail, errors and warnings), and what the parser reads from them.
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
#include "release/commit_msg.h"

/* The rules a message breaks, sorted by where they were found, joined by ','. */
static char *verdict(const char *msg, const struct commit_lint_opts *opts)
{
    struct commit_msg m;
    commit_msg_parse(msg, strlen(msg), &m);
    struct commit_problems p = {0};
    commit_lint(&m, opts, &p);
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < p.n; i++)
        strbuf_addf(&sb, "%s%s%s", i ? "," : "", p.items[i].rule,
                    p.items[i].severity == COMMIT_WARNING ? "?" : "");
    commit_problems_release(&p);
    commit_msg_release(&m);
    return sb.buf ? strbuf_detach(&sb, NULL) : strdup("");
}

static void test_verdicts(void **state)
{
    (void)state;
    static const struct {
        const char *msg, *want; /* want: failing rules; "?" marks a warning */
    } cases[] = {
        /* valid */
        {"feat: add a login page", ""},
        {"fix(api): handle an empty body", ""},
        {"docs: explain the OTAP order", ""},
        {"chore(deps): bump libgit2", ""},
        {"refactor!: split the manifest loader", ""},
        {"perf(scan): one pass over each file", ""},
        {"test: cover the refusals", ""},
        {"build: use clang for the fuzzers", ""},
        {"ci: run the sanitizers", ""},
        {"style: format with clang-format", ""},
        {"revert: feat: add a login page", ""},
        {"feat(ui)!: drop the old board", ""},
        {"fix: handle URL parsing", ""},
        {"fix: README update", ""},
        {"feat: add a page\n\nThe body explains why.\n", ""},
        {"feat: add a page\n\nBody line one.\nBody line two.\n\nRefs: #123\n", ""},
        {"feat: drop v1\n\nBREAKING CHANGE: clients move to v2\n", ""},
        {"feat: drop v1\n\nBREAKING-CHANGE: clients move to v2\n", ""},
        {"fix: x\n\nReviewed-by: Ann\nRefs #12\n", ""},
        {"feat: a\n# Please enter the commit message\n# Lines starting with '#' are ignored\n", ""},
        {"feat: a\n\n# ------------------------ >8 ------------------------\nFixed. Anything.\n",
         ""},
        {"\n\nfeat: leading blank lines are no header\n", ""},
        {"feat: a\r\n\r\nwindows line endings\r\n", ""},
        {"fix(parser): accept 1.2.3 as a version", ""},
        /* recognised, not linted */
        {"Merge branch 'feature/x' into main", ""},
        {"Merge pull request #12 from acme/fix", ""},
        {"Merge remote-tracking branch 'origin/main'", ""},
        {"Merged in feature (pull request #3)", ""},
        {"Revert \"feat: add a login page\"\n\nThis reverts commit abc.\n", ""},
        {"fixup! feat: add a login page", ""},
        {"squash! fix: a", ""},
        {"amend! fix: a", ""},
        {"v1.2.3", ""},
        {"1.2.3", ""},
        {"v2.0.0-rc.1", ""},
        {"Automatic merge from submodule", ""},
        /* invalid */
        {"", "subject-empty"},
        {"Fixed the thing.", "type-empty,subject-empty"},
        {"add login", "type-empty,subject-empty"},
        {"feat:add login", "type-empty,subject-empty"},
        {"feat login", "type-empty,subject-empty"},
        {": no type", "type-empty"},
        {"feature: add login", "type-enum"},
        {"Feat: add login", "type-case,type-enum"},
        {"FIX: a", "type-case,type-enum"},
        {"feat: ", "header-trim,subject-empty"},
        {"feat: a\nRefs: #1\n", "footer-leading-blank?"},
        {"feat: add login.", "subject-full-stop"},
        {"feat: Add login", "subject-case"},
        {"feat: ADD LOGIN", "subject-case"},
        {"feat: Add Login Page", "subject-case"},
        {"feat: AddLogin", "subject-case"},
        {"fix: Fixed. Everything.", "subject-full-stop,subject-case"},
        {" feat: a", "header-trim,type-empty,subject-empty"},
        {"feat: a ", "header-trim"},
        {"feat: a\nno blank line before the body\n", "body-leading-blank?"},
        {"feat: a\n\nbody\nRefs: #1\n", "footer-leading-blank?"},
        {"feat(scope: unclosed", "type-empty,subject-empty"},
        {"feat((x)): nested", "type-empty,subject-empty"},
        {"wip", "type-empty,subject-empty"},
        {"feat: this header is far too long for anyone to read in a log line, it goes on and on "
         "and on past the limit",
         "header-max-length"},
        {"feat: a\n\nThis body line is far too long for a terminal and for the rule that keeps "
         "body lines at most one hundred characters.\n",
         "body-max-line-length"},
        {"feat: a\n\nRefs: a footer value that is far too long for the footer line length rule of "
         "one hundred characters, really\n",
         "footer-max-line-length"},
        {"docs!: Explain.", "subject-full-stop,subject-case"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    assert_true(n >= 60);
    for (size_t i = 0; i < n; i++) {
        char *got = verdict(cases[i].msg, NULL);
        if (strcmp(got, cases[i].want))
            fail_msg("case %zu [%s]: want [%s], have [%s]", i, cases[i].msg, cases[i].want, got);
        free(got);
    }
}

static void test_parse(void **state)
{
    (void)state;
    const char *msg = "feat(api)!: drop v1\n\nWhy: v2 is out.\n\nBREAKING CHANGE: move to v2\n"
                      "Refs: #123\n";
    struct commit_msg m;
    commit_msg_parse(msg, strlen(msg), &m);
    assert_int_equal(m.kind, COMMIT_CONVENTIONAL);
    assert_string_equal(m.type, "feat");
    assert_string_equal(m.scope, "api");
    assert_string_equal(m.subject, "drop v1");
    assert_true(m.bang);
    assert_true(m.breaking);
    assert_string_equal(m.body, "Why: v2 is out.");
    assert_int_equal(m.nfooters, 2);
    assert_string_equal(m.footers[0].token, "BREAKING CHANGE");
    assert_string_equal(m.footers[0].value, "move to v2");
    assert_string_equal(m.footers[1].token, "Refs");
    commit_msg_release(&m);

    /* a footer breaks without the bang, and a body line that looks like a footer is body */
    msg = "fix: a\n\nsee: the docs\nmore text\n\nBREAKING CHANGE: b\n";
    commit_msg_parse(msg, strlen(msg), &m);
    assert_false(m.bang);
    assert_true(m.breaking);
    assert_string_equal(m.body, "see: the docs\nmore text");
    commit_msg_release(&m);

    /* a BREAKING CHANGE note runs over several lines; other footers follow it */
    msg = "feat: a\n\nBREAKING CHANGE: clients move\nto /v2 by June\nRefs: #7\n";
    commit_msg_parse(msg, strlen(msg), &m);
    assert_int_equal(m.nfooters, 2);
    assert_string_equal(m.footers[0].value, "clients move\nto /v2 by June");
    assert_string_equal(m.footers[1].token, "Refs");
    assert_null(m.body);
    commit_msg_release(&m);
    msg = "fix: a\n\nsee: the docs\nmore text\n";
    commit_msg_parse(msg, strlen(msg), &m);
    assert_int_equal(m.nfooters, 0);
    commit_msg_release(&m);

    msg = "Merge branch 'x'";
    commit_msg_parse(msg, strlen(msg), &m);
    assert_int_equal(m.kind, COMMIT_MERGE);
    assert_null(m.type);
    commit_msg_release(&m);
}

/* release.commit_types replaces the list; the length limit is an option too. */
static void test_options(void **state)
{
    (void)state;
    const char *types[] = {"feat", "fix", "ops", NULL};
    struct commit_lint_opts o = {.types = types, .max_line = 20};
    char *got = verdict("ops: rotate the keys", &o);
    assert_string_equal(got, "");
    free(got);
    got = verdict("docs: a", &o);
    assert_string_equal(got, "type-enum");
    free(got);
    got = verdict("fix: a subject that is long", &o);
    assert_string_equal(got, "header-max-length");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
