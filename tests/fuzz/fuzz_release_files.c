/*
 * libFuzzer target for the files otap release create edits in place: the
 * version file (package.json, pyproject.toml, Cargo.toml, VERSION) and
 * CHANGELOG.md. The first byte picks the kind. A version written is the
 * version read back, and an inserted release is found again in the file;
 * never a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "release/changelog.h"
#include "release/version_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"package.json", "pyproject.toml", "Cargo.toml", "VERSION"};

static void version_file(const char *path, const char *text, size_t len)
{
    struct otap_err err = OTAP_ERR_INIT;
    char *v = NULL, *out = NULL;
    size_t n = 0;
    version_file_read(path, text, len, &v, &err);
    otap_err_release(&err);
    if (version_file_update(path, text, len, "12.3.4-rc.5", &out, &n, &err) == 0) {
        char *back = NULL;
        if (version_file_read(path, out, n, &back, &err) < 0 || !back ||
            strcmp(back, "12.3.4-rc.5"))
            abort(); /* what was written must read back */
        free(back);
    }
    otap_err_release(&err);
    free(out);
    free(v);
}

static void changelog(const char *text, size_t len)
{
    static const char *const msgs[] = {"feat(x): one", "fix!: two\n\nBREAKING CHANGE: b", NULL};
    struct cl_release r = {
        .version = "9.8.7", .tag = "v9.8.7", .prev_tag = "v9.8.6", .date = "2026-11-30"};
    struct release_commit c[2];
    for (size_t i = 0; msgs[i]; i++)
        release_commit_read(&c[i], i ? "bbbbbbb" : "aaaaaaa", "id", msgs[i]);
    r.commits.items = c;
    r.commits.n = 2;
    struct manifest_release cfg = {.tag_prefix = "v"};
    struct otap_err err = OTAP_ERR_INIT;
    char *out = NULL;
    size_t n = 0;
    if (changelog_insert("CHANGELOG.md", text, len, &r, &cfg, "https://github.com/o/r", &out, &n,
                         &err) == 0) {
        if (strlen(out) != n)
            abort();
        char *notes = changelog_section_text(out, "9.8.7");
        if (!notes)
            abort(); /* the release inserted is there */
        free(notes);
    }
    otap_err_release(&err);
    free(out);
    /* the Unreleased form of the same */
    r.version = NULL;
    r.tag = NULL;
    if (changelog_insert("CHANGELOG.md", text, len, &r, &cfg, NULL, &out, &n, &err) == 0)
        free(out);
    otap_err_release(&err);
    r.commits.items = NULL;
    for (size_t i = 0; i < 2; i++) {
        struct release_commits one = {malloc(sizeof c[i]), 1, 1};
        one.items[0] = c[i];
        release_commits_release(&one);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* the files are text: NUL-terminated, as otap reads them */
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (data[0] % 5 < 4)
        version_file(names[data[0] % 5], text, size - 1);
    else
        changelog(text, size - 1);
    free(text);
    return 0;
}
