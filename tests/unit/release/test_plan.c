/*
 * Unit tests for src/lib/release/plan.c: each commit's bump, the next
 * version for 0.x (both pre-major policies), 1.x and pre-releases, and
 * pre-release numbering from the tags that exist.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "release/plan.h"

static void test_commit_bumps(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        enum bump want;
    } cases[] = {
        {"feat: a", BUMP_MINOR},
        {"feat(api): a", BUMP_MINOR},
        {"fix: a", BUMP_PATCH},
        {"perf: a", BUMP_PATCH},
        {"revert: a", BUMP_PATCH},
        {"Revert \"feat: a\"\n\nThis reverts commit abc.", BUMP_PATCH},
        {"docs: a", BUMP_NONE},
        {"chore(release): v1.2.0", BUMP_NONE},
        {"refactor!: a", BUMP_MAJOR},
        {"chore: a\n\nBREAKING CHANGE: the config moved", BUMP_MAJOR},
        {"fix: a\n\nBREAKING-CHANGE: b", BUMP_MAJOR},
        {"Merge branch 'x'", BUMP_NONE},
        {"fixup! feat: a", BUMP_NONE},
        {"Fixed the thing.", BUMP_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct release_commits l = {calloc(1, sizeof(struct release_commit)), 1, 1};
        release_commit_read(&l.items[0], "abc1234", "abc1234abc", cases[i].msg);
        if (l.items[0].bump != cases[i].want)
            fail_msg("'%s': %s, want %s", cases[i].msg, bump_name(l.items[0].bump),
                     bump_name(cases[i].want));
        release_commits_release(&l);
    }
}

static void test_next_versions(void **state)
{
    (void)state;
    const struct bump_policy dflt = {.minor_pre_major = true};
    const struct bump_policy strict = {.minor_pre_major = false};
    const struct bump_policy patchy = {.minor_pre_major = true, .patch_for_minor_pre_major = true};
    static const struct {
        const char *last;
        enum bump b;
        int policy; /* 0 default, 1 strict, 2 patchy */
        const char *want;
    } cases[] = {
        /* 0.x, default policy: nothing reaches 1.0.0 by itself */
        {"0.1.0", BUMP_PATCH, 0, "0.1.1"},
        {"0.1.0", BUMP_MINOR, 0, "0.2.0"},
        {"0.1.3", BUMP_MAJOR, 0, "0.2.0"},
        {"0.9.9", BUMP_MAJOR, 0, "0.10.0"},
        /* 0.x without bump_minor_pre_major: a breaking change is 1.0.0 */
        {"0.4.2", BUMP_MAJOR, 1, "1.0.0"},
        {"0.4.2", BUMP_MINOR, 1, "0.5.0"},
        /* 0.x with bump_patch_for_minor_pre_major */
        {"0.4.2", BUMP_MINOR, 2, "0.4.3"},
        {"0.4.2", BUMP_MAJOR, 2, "0.5.0"},
        /* 1.x */
        {"1.0.0", BUMP_PATCH, 0, "1.0.1"},
        {"1.2.3", BUMP_MINOR, 0, "1.3.0"},
        {"1.2.3", BUMP_MAJOR, 0, "2.0.0"},
        {"v1.2.3", BUMP_MINOR, 0, "1.3.0"},
        {"1.99.99", BUMP_MAJOR, 1, "2.0.0"},
        /* from a pre-release: its own final version when the bump fits in it */
        {"1.3.0-rc.2", BUMP_PATCH, 0, "1.3.0"},
        {"1.3.0-rc.2", BUMP_MINOR, 0, "1.3.0"},
        {"1.3.0-rc.2", BUMP_MAJOR, 0, "2.0.0"},
        {"2.0.0-beta.1", BUMP_MAJOR, 0, "2.0.0"},
        {"1.3.1-rc.1", BUMP_MINOR, 0, "1.4.0"},
        /* build metadata is dropped */
        {"1.2.3+sha.abc", BUMP_PATCH, 0, "1.2.4"},
        /* nothing to release */
        {"1.2.3", BUMP_NONE, 0, NULL},
        {"not.a.version", BUMP_PATCH, 0, NULL},
    };
    const struct bump_policy *policies[] = {&dflt, &strict, &patchy};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = version_bump(cases[i].last, cases[i].b, policies[cases[i].policy]);
        if (!cases[i].want && got)
            fail_msg("%s + %s: %s, want none", cases[i].last, bump_name(cases[i].b), got);
        if (cases[i].want && (!got || strcmp(got, cases[i].want)))
            fail_msg("%s + %s: %s, want %s", cases[i].last, bump_name(cases[i].b),
                     got ? got : "none", cases[i].want);
        free(got);
    }
}

static void add_tag(struct vcs_tags *t, const char *version)
{
    struct vcs_tag *g = &t->items[t->n++];
    memset(g, 0, sizeof(*g));
    g->version = (char *)version;
}

static void test_pre_releases(void **state)
{
    (void)state;
    struct vcs_tag items[8];
    struct vcs_tags tags = {items, 0, 8};
    char *got = version_pre("1.3.0", "rc", &tags);
    assert_string_equal(got, "1.3.0-rc.1");
    free(got);
    add_tag(&tags, "1.3.0-rc.1");
    add_tag(&tags, "1.3.0-rc.2");
    add_tag(&tags, "1.3.0-rc.10");
    add_tag(&tags, "1.3.0-beta.4");
    add_tag(&tags, "1.3.0-rc.3.hotfix"); /* not one otap numbers */
    add_tag(&tags, "1.2.0-rc.7");
    got = version_pre("1.3.0", "rc", &tags);
    assert_string_equal(got, "1.3.0-rc.11");
    free(got);
    got = version_pre("1.3.0", "beta", &tags);
    assert_string_equal(got, "1.3.0-beta.5");
    free(got);
    got = version_pre("1.3.0", "r", &tags); /* a prefix of rc is another name */
    assert_string_equal(got, "1.3.0-r.1");
    free(got);
    got = version_pre("2.0.0", "rc", &tags);
    assert_string_equal(got, "2.0.0-rc.1");
    free(got);
}

static void test_effective(void **state)
{
    (void)state;
    const struct bump_policy dflt = {.minor_pre_major = true};
    assert_int_equal(bump_effective("0.3.0", BUMP_MAJOR, &dflt), BUMP_MINOR);
    assert_int_equal(bump_effective("v0.3.0", BUMP_MAJOR, &dflt), BUMP_MINOR);
    assert_int_equal(bump_effective("1.3.0", BUMP_MAJOR, &dflt), BUMP_MAJOR);
    assert_int_equal(bump_effective("10.3.0", BUMP_MAJOR, &dflt), BUMP_MAJOR);
    assert_int_equal(bump_effective(NULL, BUMP_MAJOR, &dflt), BUMP_MAJOR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_bumps),
        cmocka_unit_test(test_next_versions),
        cmocka_unit_test(test_pre_releases),
        cmocka_unit_test(test_effective),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
