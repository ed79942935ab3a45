/*
 * Cutting a release (cut.h).
 */
#include "release/cut.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/semver.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "release/changelog.h"
#include "release/version_file.h"
#include "vcs/vcs_tags.h"
#include "base/banned.h"

/* The file's text, or NULL with *missing when it does not exist. */
static char *read_text(const char *path, size_t *len, bool *missing, struct strvec *refusals)
{
    struct strbuf sb = STRBUF_INIT;
    *missing = false;
    if (strbuf_read_file(&sb, path, 16u << 20) < 0) {
        if (errno == ENOENT)
            *missing = true;
        else
            strvec_pushf(refusals, "cannot read '%s': %s", path,
                         errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
        strbuf_release(&sb);
        return NULL;
    }
    return strbuf_detach(&sb, len);
}

static void check_tree(struct release_cut *c, struct otap_err *err)
{
    const char *trunk = manifest_trunk(c->m);
    char *branch = NULL, *who = NULL;
    struct otap_err e = OTAP_ERR_INIT;
    if (vcs_current_branch(c->dir, &branch, &e) < 0)
        strvec_pushf(&c->refusals, "%s", e.msg);
    else if (!branch)
        strvec_pushf(&c->refusals,
                     "HEAD is detached: releases are cut on the trunk '%s' (git switch %s)", trunk,
                     trunk);
    else if (strcmp(branch, trunk))
        strvec_pushf(&c->refusals,
                     "on branch '%s': releases are cut on the trunk '%s' (release.trunk)", branch,
                     trunk);
    otap_err_release(&e);
    char **dirty = NULL;
    size_t ndirty = 0;
    if (vcs_dirty_files(c->dir, 6, &dirty, &ndirty, &e) < 0) {
        strvec_pushf(&c->refusals, "%s", e.msg);
    } else if (ndirty) {
        struct strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < ndirty && i < 5; i++)
            strbuf_addf(&sb, "%s'%s'", i ? ", " : "", dirty[i]);
        strvec_pushf(&c->refusals, "the tree has uncommitted changes: %s%s (commit or stash them)",
                     sb.buf, ndirty > 5 ? " and more" : "");
        strbuf_release(&sb);
    }
    xfree_strv(dirty, ndirty);
    otap_err_release(&e);
    if (vcs_identity(c->dir, &who, &e) < 0)
        strvec_pushf(&c->refusals, "%s", e.msg);
    otap_err_release(&e);
    free(who);
    free(branch);
    (void)err;
}

static void check_version(struct release_cut *c)
{
    const struct release_plan *p = &c->plan;
    const char *prefix = c->m->release.tag_prefix;
    if (!p->commits.n && p->last) {
        strvec_pushf(&c->refusals, "no commit since %s: there is nothing to release",
                     p->last->name);
        return;
    }
    if (!p->commits.n) {
        strvec_pushf(&c->refusals, "the repository has no commit to release");
        return;
    }
    const char *v = c->version ? c->version : p->next;
    if (!v) {
        strvec_pushf(&c->refusals,
                     "no commit since %s bumps the version (only %s): give --version to release "
                     "anyway",
                     p->last ? p->last->name : "the start", bump_name(p->bump));
        return;
    }
    if (*v == 'v')
        v++;
    c->version_out = xstrdup(v);
    c->tag = xasprintf("%s%s", prefix, v);
    if (p->last)
        c->previous = xstrdup(p->last->name);
    /* above every release tag, reachable or not: versions only go up */
    const struct vcs_tag *top = p->tags.n ? &p->tags.items[p->tags.n - 1] : NULL;
    if (vcs_tags_find(&p->tags, c->tag))
        strvec_pushf(&c->refusals, "tag '%s' exists already", c->tag);
    else if (top && semver_cmp(v, top->version) <= 0)
        strvec_pushf(&c->refusals, "%s is not above the last release %s", v, top->name);
}

static void prepare_files(struct release_cut *c, struct otap_err *err)
{
    const struct manifest_release *cfg = &c->m->release;
    /* the version file */
    bool missing;
    size_t len = 0;
    char *text = read_text(cfg->version_file, &len, &missing, &c->refusals);
    c->version_file_exists = !missing;
    if (text || missing) {
        struct otap_err e = OTAP_ERR_INIT;
        if (version_file_update(cfg->version_file, text ? text : "", text ? len : 0, c->version_out,
                                &c->version_text, &c->version_len, &e) < 0)
            strvec_pushf(&c->refusals, "%s", e.msg);
        otap_err_release(&e);
    }
    free(text);
    /* the changelog: this release's section, inserted */
    struct cl_release r = {.version = c->version_out,
                           .tag = c->tag,
                           .prev_tag = c->previous,
                           .date = (char *)c->date,
                           .commits = c->plan.commits};
    if (strchr(c->version_out, '-')) {
        /* a pre-release is not a changelog version: its entries wait for the final
         * release, and its notes are its commits' */
        struct strbuf sb = STRBUF_INIT;
        changelog_render_release(&sb, &r, cfg, NULL);
        c->notes = changelog_section_text(sb.buf, c->version_out);
        strbuf_release(&sb);
        return;
    }
    char *web = NULL;
    vcs_remote_web_url(c->dir, &web, err);
    text = read_text(cfg->changelog, &len, &missing, &c->refusals);
    if (text || missing) {
        struct otap_err e = OTAP_ERR_INIT;
        if (changelog_insert(cfg->changelog, text ? text : "", text ? len : 0, &r, cfg, web,
                             &c->changelog_text, &c->changelog_len, &e) < 0)
            strvec_pushf(&c->refusals, "%s", e.msg);
        otap_err_release(&e);
    }
    /* the notes: the section as it now stands in the file */
    if (c->changelog_text)
        c->notes = changelog_section_text(c->changelog_text, c->version_out);
    free(text);
    free(web);
}

int release_cut_prepare(struct release_cut *c, struct otap_err *err)
{
    const struct manifest_release *cfg = &c->m->release;
    strvec_release(&c->refusals);
    if (c->version && !semver_valid(c->version))
        return otap_err_set(err, OTAP_EUSAGE, "--version '%s' is not SemVer (such as 1.4.0)",
                            c->version);
    /* a first release takes the version the project states */
    char *stated = version_file_stated(cfg->version_file);
    int rc = release_plan_make(c->dir, cfg, stated, c->pre, &c->plan, err);
    free(stated);
    if (rc < 0)
        return rc;
    check_tree(c, err);
    check_version(c);
    if (c->version_out)
        prepare_files(c, err);
    return 0;
}

int release_cut_apply(struct release_cut *c, const char *trailer, struct otap_err *err)
{
    const struct manifest_release *cfg = &c->m->release;
    struct vcs_file files[2] = {
        {cfg->version_file, c->version_text, c->version_len},
        {cfg->changelog, c->changelog_text, c->changelog_len},
    };
    char *message = xasprintf("chore(release): %s", c->tag);
    char *tag_message = xasprintf("%s\n\n%s%s%s\n", c->tag, c->notes && *c->notes ? c->notes : "",
                                  c->notes && *c->notes ? "\n\n" : "", trailer);
    /* a pre-release leaves the changelog to its final release */
    size_t nfiles = c->changelog_text ? 2 : 1;
    int rc = vcs_commit_and_tag(c->dir, files, nfiles, message, c->tag, tag_message, c->when,
                                &c->undo, err);
    if (rc == 0)
        c->commit = xstrdup(c->undo.new_commit);
    free(message);
    free(tag_message);
    return rc;
}

void release_cut_release(struct release_cut *c)
{
    strvec_release(&c->refusals);
    release_plan_release(&c->plan);
    free(c->version_out);
    free(c->tag);
    free(c->previous);
    free(c->notes);
    free(c->version_text);
    free(c->changelog_text);
    free(c->commit);
    vcs_commit_forget(&c->undo);
}
