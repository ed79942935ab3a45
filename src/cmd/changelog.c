/*
 * otap changelog: Keep a Changelog 1.1 from Conventional Commits and
 * release tags. Prints by default; --write inserts the Unreleased entries
 * into release.changelog (creating it from the whole history when it does
 * not exist), never rewriting what is there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/fileio.h"
#include "base/xalloc.h"
#include "release/changelog.h"
#include "vcs/vcs_tags.h"
#include "base/banned.h"

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    if (json_is_true(json_object_get(doc, "written"))) {
        long long n = json_integer_value(json_object_get(doc, "added"));
        fprintf(out, "%s: %lld entr%s added%s\n", json_string_value(json_object_get(doc, "file")),
                n, n == 1 ? "y" : "ies",
                json_is_true(json_object_get(doc, "created")) ? " (a new file, the whole history)"
                                                              : "");
        return;
    }
    fputs(json_string_value(json_object_get(doc, "markdown")), out);
}

/* Counts the entries r would add to text. */
static size_t entries_added(const struct cl_release *r, const struct manifest_release *cfg,
                            const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < r->commits.n; i++) {
        const struct release_commit *c = &r->commits.items[i];
        char key[16];
        snprintf(key, sizeof key, "(%s)", c->short_id);
        n += changelog_section_of(cfg, c) && !strstr(text, key);
    }
    return n;
}

static int write_file(struct cli *cli, const struct changelog *cl, const char *web)
{
    const struct manifest_release *cfg = &cli->m->release;
    struct strbuf sb = STRBUF_INIT;
    struct otap_err err = OTAP_ERR_INIT;
    int rc = 0;
    bool created = false;
    size_t added = 0;
    char *out = NULL;
    size_t out_len = 0;
    if (strbuf_read_file(&sb, cfg->changelog, 16u << 20) < 0) {
        if (errno != ENOENT) {
            rc = cli_error(cli, OTAP_EEXTERNAL, "cannot read '%s': %s", cfg->changelog,
                           strerror(errno));
            goto out;
        }
        struct strbuf all = STRBUF_INIT;
        changelog_render(&all, cl, cfg, web);
        for (size_t i = 0; i < cl->n; i++)
            added += entries_added(&cl->items[i], cfg, "");
        out = strbuf_detach(&all, &out_len);
        created = true;
    } else {
        added = entries_added(&cl->items[0], cfg, sb.buf);
        rc = changelog_insert(cfg->changelog, sb.buf, sb.len, &cl->items[0], cfg, web, &out,
                              &out_len, &err);
    }
    if (rc == 0 && (created || added))
        rc = fileio_write(cfg->changelog, out, out_len, false, 0644, &err);
    if (rc < 0)
        rc = cli_fail(cli, rc, &err);
    else
        cli_emit(cli,
                 json_pack("{s:b, s:b, s:s, s:b, s:I}", "ok", 1, "written", 1, "file",
                           cfg->changelog, "created", created, "added", (json_int_t)added),
                 render);
out:
    free(out);
    strbuf_release(&sb);
    otap_err_release(&err);
    return rc;
}

/* What the walk renders: every release, or the one asked for. */
struct rendering {
    const struct manifest_release *cfg;
    const char *only; /* a version; "" for Unreleased only; NULL for all */
    struct strbuf md;
    struct changelog links; /* version, tag and prev_tag of each release rendered */
    json_t *releases;
};

static int render_one(void *ctx, struct cl_release *r)
{
    struct rendering *k = ctx;
    bool want = !k->only || (!*k->only ? !r->version : r->version && !strcmp(r->version, k->only));
    if (!want)
        return 0;
    changelog_render_release(&k->md, r, k->cfg, NULL);
    struct cl_release *l = XPUSH(&k->links.items, &k->links.n, &k->links.alloc);
    memset(l, 0, sizeof(*l));
    l->version = r->version ? xstrdup(r->version) : NULL;
    l->tag = r->tag ? xstrdup(r->tag) : NULL;
    l->prev_tag = r->prev_tag ? xstrdup(r->prev_tag) : NULL;
    json_array_append_new(k->releases,
                          json_pack("{s:s?, s:s?, s:s?, s:I}", "version", r->version, "tag", r->tag,
                                    "date", r->date, "commits", (json_int_t)r->commits.n));
    return k->only ? 1 : 0; /* one release asked for: found, stop */
}

static int run_changelog(struct cli *cli, const struct cli_args *args)
{
    const char *since = cli_opt(args, "since"), *release = cli_opt(args, "release");
    bool unreleased = cli_flag(args, "unreleased"), write = cli_flag(args, "write");
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    if ((since != NULL) + (release != NULL) + unreleased > 1)
        return cli_usage_error(cli, "give one of --unreleased, --since and --release");
    if (write && (since || release))
        return cli_usage_error(cli, "--write inserts the Unreleased entries: it takes no --since "
                                    "or --release");
    const struct manifest_release *cfg = &cli->m->release;
    struct otap_err err = OTAP_ERR_INIT;
    struct vcs_tags tags;
    rc = vcs_release_tags(".", cfg->tag_prefix, &tags, &err);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    const struct vcs_tag *from = NULL;
    if (since) {
        char *name = strncmp(since, cfg->tag_prefix, strlen(cfg->tag_prefix))
                         ? xasprintf("%s%s", cfg->tag_prefix, since)
                         : xstrdup(since);
        from = vcs_tags_find(&tags, name);
        free(name);
        if (!from) {
            vcs_tags_release(&tags);
            return cli_error(cli, OTAP_ENOTFOUND, "no release tag '%s'", since);
        }
    }
    char *web = NULL;
    vcs_remote_web_url(".", &web, &err);
    if (write) {
        struct changelog cl;
        rc = changelog_collect(".", &tags, NULL, NULL, &cl, &err);
        rc = rc < 0 ? cli_fail(cli, rc, &err) : write_file(cli, &cl, web);
        changelog_release(&cl);
        goto out;
    }
    struct rendering k = {.cfg = cfg, .md = STRBUF_INIT, .releases = json_array()};
    if (unreleased)
        k.only = "";
    else if (release)
        k.only = *release == 'v' ? release + 1 : release;
    bool whole = !unreleased && !release && !since;
    if (whole)
        changelog_render_header(&k.md);
    rc = changelog_walk(".", &tags, from ? from->commit : NULL, from ? from->name : NULL,
                        render_one, &k, &err);
    if (rc < 0)
        rc = cli_fail(cli, rc, &err);
    else if (release && !k.links.n)
        rc = cli_error(cli, OTAP_ENOTFOUND, "no release %s in the history of HEAD", k.only);
    else {
        rc = 0;
        changelog_render_links(&k.md, &k.links, web, cfg->tag_prefix);
        while (k.md.len > 1 && k.md.buf[k.md.len - 1] == '\n' && k.md.buf[k.md.len - 2] == '\n')
            strbuf_setlen(&k.md, k.md.len - 1);
        cli_emit(
            cli,
            json_pack("{s:b, s:O, s:s}", "ok", 1, "releases", k.releases, "markdown", k.md.buf),
            render);
    }
    json_decref(k.releases);
    strbuf_release(&k.md);
    changelog_release(&k.links);
out:
    free(web);
    otap_err_release(&err);
    vcs_tags_release(&tags);
    return rc;
}

const struct cmd cmd_changelog = {
    .name = "changelog",
    .summary = "Keep a Changelog 1.1 from Conventional Commits and release tags",
    .opts =
        (const struct cli_opt[]){
            {"unreleased", 0, NULL, "only the commits since the last release"},
            {"since", 0, "TAG", "the releases after TAG, and what is unreleased"},
            {"release", 0, "X.Y.Z", "only that release's section"},
            {"write", 'w', NULL, "insert the Unreleased entries into release.changelog"},
            {0},
        },
    .about = "Sections come from commit types: feat Added; fix Fixed; perf, refactor and\n"
             "revert Changed; deprecate Deprecated; remove Removed; security, and any\n"
             "scope 'security', Security (release.changelog_sections changes it; null leaves\n"
             "a type out). Breaking changes are marked and never left out. Compare links\n"
             "follow when the remote 'origin' is on the web. --write adds only commits the\n"
             "file does not mention yet (by short id) and keeps every hand-written line.\n",
    .exits = "0 ok, 2 usage or an unknown tag, 5 git cannot be read",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run_changelog,
};
