/*
 * Unit tests for src/lib/release/changelog.c: the section of each commit
 * (the default mapping and the manifest's), a release rendered fresh, and
 * a release inserted into a real changelog (Keep a Changelog's own, in
 * tests/fixtures/release/keep-a-changelog/) keeping every byte that was
 * there. GOLDEN_UPDATE=1 rewrites the expected file.
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
#include "release/changelog.h"

static struct manifest_release cfg = {.tag_prefix = "v", .bump_minor_pre_major = true};

/* A release made of messages; ids are "c000001", "c000002"... */
static void make(struct cl_release *r, const char *version, const char *const *msgs)
{
    memset(r, 0, sizeof(*r));
    r->version = (char *)version;
    for (size_t i = 0; msgs[i]; i++) {
        char id[32];
        snprintf(id, sizeof id, "c%06u", (unsigned)(i + 1));
        struct release_commit *c = calloc(1, sizeof(*c));
        release_commit_read(c, id, id, msgs[i]);
        r->commits.items = realloc(r->commits.items, (i + 1) * sizeof(*c));
        r->commits.items[i] = *c;
        r->commits.n = r->commits.alloc = i + 1;
        free(c);
    }
}

static char *read_all(const char *rel)
{
    const char *src = getenv("SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path, 0) < 0)
        fail_msg("cannot read %s", path);
    return strbuf_detach(&sb, NULL);
}

static void test_sections(void **state)
{
    (void)state;
    static const struct {
        const char *msg, *want;
    } cases[] = {
        {"feat: a", "Added"},
        {"fix: a", "Fixed"},
        {"perf: a", "Changed"},
        {"refactor(db): a", "Changed"},
        {"Revert \"feat: a\"", "Changed"},
        {"fix(security): a", "Security"},
        {"feat(Security): a", "Security"},
        {"docs: a", NULL},
        {"chore: a", NULL},
        {"chore!: drop node 16", "Changed"}, /* breaking: never left out */
        {"Fixed it", NULL},
        {"deprecate: the v1 routes", "Deprecated"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct release_commits l = {calloc(1, sizeof(struct release_commit)), 1, 1};
        release_commit_read(&l.items[0], "abc1234", "abc1234", cases[i].msg);
        const char *got = changelog_section_of(&cfg, &l.items[0]);
        if (cases[i].want ? !got || strcmp(got, cases[i].want) : got != NULL)
            fail_msg("'%s': %s, want %s", cases[i].msg, got ? got : "(left out)",
                     cases[i].want ? cases[i].want : "(left out)");
        release_commits_release(&l);
    }
    /* the manifest's mapping wins; null leaves a type out */
    struct manifest_cl_section map[] = {{"docs", "Changed"}, {"fix", NULL}};
    struct manifest_release mine = cfg;
    mine.sections = map;
    mine.nsections = 2;
    struct release_commits l = {calloc(2, sizeof(struct release_commit)), 2, 2};
    release_commit_read(&l.items[0], "a", "a", "docs: a");
    release_commit_read(&l.items[1], "b", "b", "fix: b");
    assert_string_equal(changelog_section_of(&mine, &l.items[0]), "Changed");
    assert_null(changelog_section_of(&mine, &l.items[1]));
    release_commits_release(&l);
}

static void test_fresh(void **state)
{
    (void)state;
    static const char *const msgs[] = {
        "feat(api): add the export",
        "fix: an empty cart",
        "docs: words",
        "feat!: drop v1\n\nBREAKING CHANGE: clients move\nto /v2",
        NULL,
    };
    struct cl_release r;
    make(&r, "1.0.0", msgs);
    r.tag = "v1.0.0";
    r.date = "2026-11-30";
    char *out = NULL;
    size_t n = 0;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(
        changelog_insert("CHANGELOG.md", "", 0, &r, &cfg, "https://gitlab.com/a/b", &out, &n, &err),
        0);
    assert_string_equal(
        out, "# Changelog\n\n"
             "All notable changes to this project will be documented in this file.\n\n"
             "The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\n"
             "and this project adheres to [Semantic Versioning]"
             "(https://semver.org/spec/v2.0.0.html).\n\n"
             "## [Unreleased]\n\n"
             "## [1.0.0] - 2026-11-30\n\n"
             "### Added\n\n"
             "- **Breaking:** drop v1 (c000004)\n"
             "  - clients move to /v2\n"
             "- **api:** add the export (c000001)\n\n"
             "### Fixed\n\n"
             "- an empty cart (c000002)\n\n"
             "[unreleased]: https://gitlab.com/a/b/-/compare/v1.0.0...HEAD\n"
             "[1.0.0]: https://gitlab.com/a/b/-/releases/tag/v1.0.0\n");
    free(out);
    /* the section's text, as release notes take it */
    char *notes = changelog_section_text("## [Unreleased]\n\n## [1.0.0] - x\n\n### Added\n\n- a\n\n"
                                         "## [0.9.0] - y\n\n- b\n\n[1.0.0]: u\n",
                                         "1.0.0");
    assert_string_equal(notes, "### Added\n\n- a");
    free(notes);
    assert_null(changelog_section_text("## [1.0.0] - x\n", "1.0"));
    r.version = NULL;
    release_commits_release(&r.commits);
}

static void test_keep_a_changelog(void **state)
{
    (void)state;
    static const char *const msgs[] = {
        "feat: Portuguese translation",
        "fix(nl): a typo on the Dutch page",
        "docs: a README line",
        "feat!: drop the 0.x pages\n\nBREAKING CHANGE: links to /en/0.3.0/ answer 404",
        NULL,
    };
    char *before = read_all("tests/fixtures/release/keep-a-changelog/CHANGELOG.md");
    struct cl_release r;
    make(&r, "1.2.0", msgs);
    r.tag = "v1.2.0";
    r.prev_tag = "v1.1.1";
    r.date = "2026-11-30";
    char *out = NULL;
    size_t n = 0;
    struct otap_err err = OTAP_ERR_INIT;
    if (changelog_insert("CHANGELOG.md", before, strlen(before), &r, &cfg,
                         "https://github.com/olivierlacan/keep-a-changelog", &out, &n, &err) < 0)
        fail_msg("%s", err.msg);
    const char *want_path = "tests/fixtures/release/keep-a-changelog/CHANGELOG.1.2.0.md";
    if (getenv("GOLDEN_UPDATE")) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", getenv("SRC"), want_path);
        FILE *f = fopen(path, "w");
        fputs(out, f);
        fclose(f);
    }
    char *want = read_all(want_path);
    assert_string_equal(out, want);
    /* every released section is kept byte for byte */
    const char *old = strstr(before, "## [1.1.1] - 2023-03-05");
    const char *old_end = strstr(before, "\n[unreleased]:");
    const char *now = strstr(out, "## [1.1.1] - 2023-03-05");
    assert_non_null(now);
    assert_memory_equal(old, now, (size_t)(old_end - old));
    /* the hand-written Unreleased entries moved into 1.2.0, with the commits after them */
    assert_non_null(strstr(out, "## [Unreleased]\n\n## [1.2.0] - 2026-11-30\n\n### Added\n\n"
                                "- v1.1 Spanish translation.\n"));
    assert_non_null(strstr(out, "- v1.1 Ukrainian translation.\n"
                                "- **Breaking:** drop the 0.x pages (c000004)\n"));
    assert_non_null(strstr(out, "[unreleased]: https://github.com/olivierlacan/keep-a-changelog/"
                                "compare/v1.2.0...HEAD\n[1.2.0]: https://github.com/olivierlacan/"
                                "keep-a-changelog/compare/v1.1.1...v1.2.0\n[1.1.1]:"));
    free(out);
    /* the same release twice is refused */
    assert_int_equal(
        changelog_insert("CHANGELOG.md", want, strlen(want), &r, &cfg, NULL, &out, &n, &err),
        OTAP_EREFUSED);
    assert_non_null(strstr(err.msg, "CHANGELOG.md:10: has a section for 1.2.0 already"));
    otap_err_release(&err);
    free(want);
    free(before);
    release_commits_release(&r.commits);
}

static void test_unreleased(void **state)
{
    (void)state;
    static const char *const msgs[] = {"feat: one", "fix: two", "feat: three", NULL};
    struct cl_release r;
    make(&r, NULL, msgs);
    r.prev_tag = "v2.0.0";
    /* c000001 is in the file already; no Unreleased heading: one is added above 2.0.0 */
    const char *text = "# Changelog\n\nWords.\n\n## 2.0.0 - 2026-01-01\n\n### Added\n\n"
                       "- one (c000001)\n";
    char *out = NULL;
    size_t n = 0;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(
        changelog_insert("CHANGELOG.md", text, strlen(text), &r, &cfg, NULL, &out, &n, &err), 0);
    assert_string_equal(out, "# Changelog\n\nWords.\n\n## [Unreleased]\n\n### Added\n\n"
                             "- three (c000003)\n\n### Fixed\n\n- two (c000002)\n\n"
                             "## 2.0.0 - 2026-01-01\n\n### Added\n\n- one (c000001)\n");
    /* inserting again adds nothing */
    char *again = NULL;
    assert_int_equal(changelog_insert("CHANGELOG.md", out, n, &r, &cfg, NULL, &again, &n, &err), 0);
    assert_string_equal(again, out);
    free(again);
    free(out);
    release_commits_release(&r.commits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_fresh),
        cmocka_unit_test(test_keep_a_changelog),
        cmocka_unit_test(test_unreleased),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
