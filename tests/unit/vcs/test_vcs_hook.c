/*
 * Unit tests for src/lib/vcs/vcs_hook.c on a real repository made with
 * libgit2 in a temporary directory: install, refuse a foreign hook,
 * --force, core.hooksPath, and outside any repository.
 */
#include <git2.h>
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

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "vcs/vcs_hook.h"

static const char script[] = "#!/bin/sh\nexec otap secrets scan --staged\n";
#define MARK "secrets scan --staged"

static void test_vcs_hook_install(void **state)
{
    (void)state;
    char dir[] = "/tmp/otap-hook-XXXXXX";
    assert_non_null(mkdtemp(dir));
    git_libgit2_init();
    git_repository *repo = NULL;
    assert_int_equal(git_repository_init(&repo, dir, 0), 0);

    char *path = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(vcs_hook_install(dir, "pre-commit", script, MARK, false, &path, &err), 0);
    char *want = xasprintf("%s/.git/hooks/pre-commit", dir);
    assert_string_equal(path, want);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_mode & S_IXUSR);
    free(path);
    path = NULL;
    /* otap's own hook is replaced without --force */
    assert_int_equal(vcs_hook_install(dir, "pre-commit", script, MARK, false, &path, &err), 0);
    free(path);
    path = NULL;

    /* someone else's hook: refused, untouched; --force replaces it */
    FILE *f = fopen(want, "w");
    fputs("#!/bin/sh\nrun-my-linter\n", f);
    fclose(f);
    assert_int_equal(vcs_hook_install(dir, "pre-commit", script, MARK, false, &path, &err),
                     OTAP_EREFUSED);
    assert_null(path);
    assert_non_null(strstr(err.msg, "is not otap's"));
    otap_err_release(&err);
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(strbuf_read_file(&sb, want, 4096), 0);
    assert_non_null(strstr(sb.buf, "run-my-linter"));
    strbuf_release(&sb);
    assert_int_equal(vcs_hook_install(dir, "pre-commit", script, MARK, true, &path, &err), 0);
    free(path);
    path = NULL;

    /* core.hooksPath, relative to the working tree */
    git_config *cfg = NULL;
    assert_int_equal(git_repository_config(&cfg, repo), 0);
    assert_int_equal(git_config_set_string(cfg, "core.hooksPath", ".githooks"), 0);
    git_config_free(cfg);
    assert_int_equal(vcs_hook_install(dir, "commit-msg", script, MARK, false, &path, &err), 0);
    char *want2 = xasprintf("%s/.githooks/commit-msg", dir);
    assert_string_equal(path, want2);
    free(path);
    free(want2);

    git_repository_free(repo);
    git_libgit2_shutdown();
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(want);

    /* outside any repository */
    path = NULL;
    assert_int_equal(vcs_hook_install("/", "pre-commit", script, MARK, false, &path, &err),
                     OTAP_EUSAGE);
    assert_null(path);
    otap_err_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vcs_hook_install),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
