/*
 * otap release: SemVer releases from Conventional Commits.
 *
 *   plan     the commits since the last release tag, each one's bump, the next version
 *   create   write the version and the changelog, commit, tag, record in the ledger
 *   notes    a release's notes, from its tag
 *
 * The rules live in src/lib/release/ (plan, cut, changelog); this file
 * reads the options and renders.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "base/actor.h"
#include "base/semver.h"
#include "base/xalloc.h"
#include "release/changelog.h"
#include "release/cut.h"
#include "release/plan.h"
#include "release/version_file.h"
#include "state/ledger.h"
#include "state/store.h"
#include "vcs/vcs_tags.h"
#include "base/banned.h"

/* SOURCE_DATE_EPOCH (reproducible builds' convention), or 0 when it is not set. */
static long long source_date_epoch(void)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde && strlen(sde) < 19 && strspn(sde, "0123456789") == strlen(sde))
        return strtoll(sde, NULL, 10);
    return 0;
}

/* Today in UTC, or SOURCE_DATE_EPOCH's day when set. */
static char *release_date(void)
{
    time_t now = source_date_epoch() ? (time_t)source_date_epoch() : time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char buf[16];
    strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return xstrdup(buf);
}

static json_t *commits_json(const struct release_commits *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++) {
        const struct release_commit *c = &l->items[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:b, s:s}", "commit", c->short_id, "header",
                         c->header, "kind", commit_kind_name(c->kind), "type", c->type, "scope",
                         c->scope, "breaking", c->breaking, "bump", bump_name(c->bump)));
    }
    return a;
}

static json_t *plan_json(const struct release_plan *p, const struct manifest_release *cfg)
{
    json_t *last = json_null();
    if (p->last)
        last = json_pack("{s:s, s:s, s:s}", "tag", p->last->name, "version", p->last->version,
                         "commit", p->last->commit);
    return json_pack("{s:b, s:o, s:o, s:s, s:s, s:s?, s:s?, s:{s:b, s:b}}", "ok", 1, "last", last,
                     "commits", commits_json(&p->commits), "bump", bump_name(p->bump), "applied",
                     bump_name(p->last ? p->applied : p->bump), "next", p->next, "first_from",
                     p->first_from, "policy", "bump_minor_pre_major", cfg->bump_minor_pre_major,
                     "bump_patch_for_minor_pre_major", cfg->bump_patch_for_minor_pre_major);
}

static void render_plan(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *last = json_object_get(doc, "last");
    if (json_is_object(last))
        fprintf(out, "last release: %s (%.7s)\n", json_string_value(json_object_get(last, "tag")),
                json_string_value(json_object_get(last, "commit")));
    else
        fprintf(out, "last release: none yet\n");
    json_t *commits = json_object_get(doc, "commits");
    fprintf(out, "commits since: %zu\n", json_array_size(commits));
    size_t i;
    json_t *c;
    json_array_foreach(commits, i, c)
    {
        const char *bump = json_string_value(json_object_get(c, "bump"));
        fprintf(out, "  %s  %s%-5s%s  %s%s\n", json_string_value(json_object_get(c, "commit")),
                strcmp(bump, "none") ? cli_bold(cli) : "", bump, cli_reset(cli),
                json_string_value(json_object_get(c, "header")),
                json_is_true(json_object_get(c, "breaking")) ? "  [breaking]" : "");
    }
    const char *next = json_string_value(json_object_get(doc, "next"));
    const char *from = json_string_value(json_object_get(doc, "first_from"));
    const char *bump = json_string_value(json_object_get(doc, "bump"));
    const char *applied = json_string_value(json_object_get(doc, "applied"));
    if (next && from)
        fprintf(out, "next version: %s%s%s (a first release, from %s)\n", cli_green(cli), next,
                cli_reset(cli), from);
    else if (next && strcmp(bump, applied))
        fprintf(out, "next version: %s%s%s (%s: before 1.0.0 a %s change bumps the %s)\n",
                cli_green(cli), next, cli_reset(cli), applied,
                !strcmp(bump, "major") ? "breaking" : "feature", applied);
    else if (next)
        fprintf(out, "next version: %s%s%s (%s)\n", cli_green(cli), next, cli_reset(cli), bump);
    else
        fprintf(out, "next version: none: no commit since the last release bumps it\n");
}

static int check_pre(struct cli *cli, const char *pre)
{
    if (!pre)
        return 0;
    char *probe = xasprintf("1.0.0-%s.1", pre);
    bool ok = *pre && semver_valid(probe) && strspn(pre, "0123456789") != strlen(pre);
    free(probe);
    return ok ? 0
              : cli_usage_error(cli, "--pre '%s' is no pre-release name (such as rc, beta)", pre);
}

static int verb_plan(struct cli *cli, const struct cli_args *args)
{
    const char *pre = cli_opt(args, "pre");
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc || (rc = check_pre(cli, pre)))
        return rc;
    struct release_plan p;
    struct otap_err err = OTAP_ERR_INIT;
    char *initial = version_file_stated(cli->m->release.version_file);
    rc = release_plan_make(".", &cli->m->release, initial, pre, &p, &err);
    free(initial);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    cli_emit(cli, plan_json(&p, &cli->m->release), render_plan);
    release_plan_release(&p);
    return 0;
}

static void render_created(struct cli *cli, json_t *doc, FILE *out)
{
    bool dry = json_is_true(json_object_get(doc, "dry_run"));
    const char *tag = json_string_value(json_object_get(doc, "tag"));
    if (dry) {
        fprintf(out, "would release %s (dry run: nothing written)\n", tag);
    } else {
        fprintf(out, "%sreleased %s%s: commit %.7s, tag %s\n", cli_green(cli), tag, cli_reset(cli),
                json_string_value(json_object_get(doc, "commit")), tag);
        const char *cl = json_string_value(json_object_get(doc, "changelog"));
        fprintf(out, "  wrote %s%s%s; ledger #%lld release.created\n",
                json_string_value(json_object_get(doc, "version_file")), cl ? " and " : "",
                cl ? cl : " (a pre-release leaves the changelog to its final release)",
                json_integer_value(json_object_get(doc, "ledger_seq")));
    }
    const char *notes = json_string_value(json_object_get(doc, "notes"));
    if (notes && *notes && !cli->quiet)
        fprintf(out, "\n%s\n", notes);
}

static int verb_create(struct cli *cli, const struct cli_args *args)
{
    const char *version = cli_opt(args, "version"), *pre = cli_opt(args, "pre");
    bool dry = cli_flag(args, "dry-run");
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc || (rc = check_pre(cli, pre)))
        return rc;
    if (version && pre)
        return cli_usage_error(cli, "give --version or --pre, not both");
    char *date = release_date();
    struct release_cut c = {.dir = ".",
                            .m = cli->m,
                            .version = version,
                            .pre = pre,
                            .date = date,
                            .when = source_date_epoch()};
    struct otap_err err = OTAP_ERR_INIT;
    rc = release_cut_prepare(&c, &err);
    if (rc < 0) {
        rc = cli_fail(cli, rc, &err);
        goto out;
    }
    if (c.refusals.n) {
        rc = cli_refused(cli, "cut a release", c.refusals.items, c.refusals.n, NULL);
        goto out;
    }
    json_t *doc = json_pack("{s:b, s:b, s:s, s:s, s:s?, s:s, s:s?, s:s}", "ok", 1, "dry_run", dry,
                            "version", c.version_out, "tag", c.tag, "previous", c.previous,
                            "version_file", cli->m->release.version_file, "changelog",
                            c.changelog_text ? cli->m->release.changelog : NULL, "notes",
                            c.notes ? c.notes : "");
    if (dry) {
        cli_emit(cli, doc, render_created);
        goto out;
    }
    /* the tag names the ledger's head, so the release and the audit trail point at each other */
    struct store *s;
    rc = cli_store_open(cli, &s);
    if (rc < 0) {
        json_decref(doc);
        goto out;
    }
    long long head_seq = 0, seq = 0;
    char head[SHA256_HEX_LEN + 1] = "";
    rc = ledger_head(s, &head_seq, head, &err);
    char *trailer = xasprintf("Ledger-Head: %lld %s", head_seq, *head ? head : "(empty)");
    if (rc == 0)
        rc = release_cut_apply(&c, trailer, &err);
    free(trailer);
    if (rc == 0) {
        char *actor = actor_name();
        rc = store_begin(s, &err);
        if (rc == 0)
            rc = ledger_append(s, actor, "release.created", NULL, c.tag,
                               json_pack("{s:s, s:s, s:s?, s:s, s:s, s:I}", "version",
                                         c.version_out, "commit", c.commit, "previous", c.previous,
                                         "bump", bump_name(c.plan.bump), "tag", c.tag, "commits",
                                         (json_int_t)c.plan.commits.n),
                               &seq, &err);
        rc = store_end(s, rc, &err);
        free(actor);
        if (rc < 0) {
            /* no ledger entry, no release: the commit and tag are taken back */
            struct otap_err undo = OTAP_ERR_INIT;
            if (vcs_commit_undo(&c.undo, &undo) < 0)
                fprintf(stderr, "otap: the release could not be taken back: %s\n", undo.msg);
            otap_err_release(&undo);
        }
    }
    store_close(s);
    if (rc < 0) {
        json_decref(doc);
        rc = cli_fail(cli, rc, &err);
        goto out;
    }
    json_object_set_new(doc, "commit", json_string(c.commit));
    json_object_set_new(doc, "ledger_seq", json_integer(seq));
    cli_emit(cli, doc, render_created);
out:
    otap_err_release(&err);
    release_cut_release(&c);
    free(date);
    return rc;
}

static void render_notes(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    const char *notes = json_string_value(json_object_get(doc, "notes"));
    fprintf(out, "%s\n", notes && *notes ? notes : "(no notable changes)");
}

/* A tag otap did not make: its notes from the commits since the release before it. */
static char *notes_from_history(struct cli *cli, const char *name, struct otap_err *err)
{
    struct vcs_tags tags;
    int rc = vcs_release_tags(".", cli->m->release.tag_prefix, &tags, err);
    if (rc < 0)
        return NULL;
    const struct vcs_tag *t = vcs_tags_find(&tags, name), *prev = NULL;
    char *notes = NULL;
    if (t) {
        char *parent = xasprintf("%s^", t->commit);
        char *pc = NULL;
        struct otap_err ignored = OTAP_ERR_INIT;
        if (vcs_resolve(".", parent, &pc, &ignored) == 0)
            vcs_nearest_release(".", pc, &tags, &prev, &ignored);
        otap_err_release(&ignored);
        free(pc);
        free(parent);
        struct changelog cl;
        /* the commits after the release before, up to this tag */
        if (changelog_collect(".", &tags, prev ? prev->commit : NULL, prev ? prev->name : NULL, &cl,
                              err) == 0) {
            for (size_t i = 0; i < cl.n && !notes; i++)
                if (cl.items[i].tag && !strcmp(cl.items[i].tag, name)) {
                    struct strbuf sb = STRBUF_INIT;
                    changelog_render_release(&sb, &cl.items[i], &cli->m->release, NULL);
                    notes = changelog_section_text(sb.buf, cl.items[i].version);
                    strbuf_release(&sb);
                }
            changelog_release(&cl);
        }
    }
    vcs_tags_release(&tags);
    return notes;
}

static int verb_notes(struct cli *cli, const struct cli_args *args)
{
    if (args->argc < 2)
        return cli_usage_error(cli, "which release? give its tag (%s1.2.0)",
                               cli->m->release.tag_prefix);
    int rc = cli_operands_at_most(cli, args, 1);
    if (rc)
        return rc;
    const char *arg = args->argv[1];
    const char *prefix = cli->m->release.tag_prefix;
    /* "1.2.0" and "v1.2.0" both name the tag v1.2.0 */
    char *name =
        strncmp(arg, prefix, strlen(prefix)) ? xasprintf("%s%s", prefix, arg) : xstrdup(arg);
    char *message = NULL, *commit = NULL, *head = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    rc = vcs_tag_read(".", name, &message, &commit, &err);
    char *notes = NULL;
    if (rc == 0 && message) {
        /* the tag's message: its title line, the notes, the Ledger-Head trailer */
        const char *body = strchr(message, '\n');
        body = body ? body + strspn(body, "\n") : "";
        const char *trailer = strstr(body, "Ledger-Head: ");
        if (trailer && (trailer == body || trailer[-1] == '\n')) {
            head = xstrndup(trailer + 13, strcspn(trailer + 13, "\n"));
            notes = xstrndup(body, (size_t)(trailer - body));
        } else {
            notes = xstrdup(body);
        }
        size_t n = strlen(notes);
        while (n && notes[n - 1] == '\n')
            notes[--n] = '\0';
    } else if (rc == 0) {
        notes = notes_from_history(cli, name, &err);
        if (!notes && err.msg)
            rc = err.code;
    }
    if (rc < 0)
        rc = cli_fail(cli, rc, &err);
    else
        cli_emit(cli,
                 json_pack("{s:b, s:s, s:s, s:s, s:s?, s:b}", "ok", 1, "tag", name, "commit",
                           commit, "notes", notes ? notes : "", "ledger_head", head, "annotated",
                           message != NULL),
                 render_notes);
    otap_err_release(&err);
    free(notes);
    free(head);
    free(message);
    free(commit);
    free(name);
    return rc;
}

static const struct cmd verbs[] = {
    {
        .name = "plan",
        .summary = "the commits since the last release, what each bumps, the next version",
        .opts =
            (const struct cli_opt[]){
                {"pre", 0, "ID", "plan a pre-release: 1.3.0-ID.1, then -ID.2"},
                {0},
            },
        .about =
            "A breaking change (type! or a BREAKING CHANGE footer) bumps the major, feat the\n"
            "minor, fix, perf and reverts the patch, other types nothing. Before 1.0.0 a\n"
            "breaking change bumps the minor (release.bump_minor_pre_major: true, the\n"
            "default) and a feature the minor (release.bump_patch_for_minor_pre_major: false).\n"
            "A first release takes the version in release.version_file, else 0.1.0.\n",
        .run = verb_plan,
    },
    {
        .name = "create",
        .summary = "cut the next release: version file, changelog, commit, annotated tag",
        .opts =
            (const struct cli_opt[]){
                {"version", 0, "X.Y.Z", "this version instead of the planned one"},
                {"pre", 0, "ID", "a pre-release (1.3.0-rc.1); the final one follows without it"},
                {"dry-run", 'n', NULL, "check and show the release, write nothing"},
                {0},
            },
        .about =
            "Refused (exit 4, every reason listed, nothing written) on a tree with uncommitted\n"
            "changes, a branch other than the trunk, no commit since the last release,\n"
            "nothing that bumps the version, a version not above every release tag, an\n"
            "existing tag or changelog section, or no git identity. The version goes into\n"
            "release.version_file, the release's section into release.changelog, both in one\n"
            "commit 'chore(release): vX.Y.Z' with an annotated tag whose message holds the\n"
            "notes and the ledger's head; the ledger records release.created. If recording\n"
            "fails, the commit and tag are taken back. The date is today in UTC; with\n"
            "SOURCE_DATE_EPOCH set, that time is the release's date and the commit's and\n"
            "tag's time (reproducible releases).\n",
        .run = verb_create,
    },
    {
        .name = "notes",
        .summary = "the notes of a release, from its tag",
        .synopsis = "TAG",
        .run = verb_notes,
    },
    {0},
};

const struct cmd cmd_release = {
    .name = "release",
    .summary = "SemVer releases: plan the next version, cut it, read its notes",
    .exits = "0 ok, 2 usage (an unknown tag, a bad --version or --pre), 4 refused (release\n"
             "      create: every unmet condition is listed), 5 git or the state store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
