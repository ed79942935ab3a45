/*
 * Keep a Changelog 1.1 from commits and tags (changelog.h).
 */
#include "release/changelog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/xalloc.h"
#include "vcs/vcs_log.h"
#include "base/banned.h"

/* The default mapping of commit types to sections (docs/release.md). */
static const struct {
    const char *type, *section;
} default_sections[] = {
    {"feat", "Added"},       {"fix", "Fixed"},         {"perf", "Changed"},
    {"refactor", "Changed"}, {"revert", "Changed"},    {"deprecate", "Deprecated"},
    {"remove", "Removed"},   {"security", "Security"},
};

const char *changelog_section_of(const struct manifest_release *cfg, const struct release_commit *c)
{
    const char *type = c->kind == COMMIT_REVERT ? "revert" : c->type;
    if (!type)
        return NULL; /* not a Conventional Commit: nothing to file it under */
    const char *section = NULL;
    bool listed = false;
    for (size_t i = 0; i < cfg->nsections && !listed; i++)
        if (!strcmp(cfg->sections[i].type, type)) {
            listed = true;
            section = cfg->sections[i].section;
        }
    for (size_t i = 0; !listed && i < sizeof default_sections / sizeof *default_sections; i++)
        if (!strcmp(default_sections[i].type, type)) {
            listed = true;
            section = default_sections[i].section;
        }
    /* a security fix is a Security entry, whatever the mapping of fix says */
    if (c->scope && !strcasecmp(c->scope, "security") && section)
        section = "Security";
    if (!section && c->breaking)
        section = "Changed"; /* a breaking change is never left out */
    return section;
}

/* ---- collecting ---------------------------------------------------------- */

struct tag_at {
    const char *commit;
    const struct vcs_tag *tag;
};

static int by_commit(const void *a, const void *b)
{
    const struct tag_at *x = a, *y = b;
    return strcmp(x->commit, y->commit);
}

struct walking {
    struct tag_at *at;
    size_t nat;
    struct cl_release cur; /* the release being read, newest first */
    changelog_fn fn;
    void *ctx;
    int rc;
};

static char *utc_date(long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char buf[16];
    strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return xstrdup(buf);
}

static void release_free(struct cl_release *r)
{
    free(r->version);
    free(r->tag);
    free(r->prev_tag);
    free(r->date);
    release_commits_release(&r->commits);
    memset(r, 0, sizeof(*r));
}

/* Hands the release read so far to fn, oldest commit first, and frees it. */
static int finish(struct walking *w, const char *prev_tag)
{
    struct cl_release *r = &w->cur;
    r->prev_tag = prev_tag ? xstrdup(prev_tag) : NULL;
    for (size_t i = 0; i < r->commits.n / 2; i++) {
        struct release_commit t = r->commits.items[i];
        r->commits.items[i] = r->commits.items[r->commits.n - 1 - i];
        r->commits.items[r->commits.n - 1 - i] = t;
    }
    int rc = w->fn(w->ctx, r);
    release_free(r);
    return rc;
}

static int on_commit(void *ctx, const char *short_id, const char *id, const char *message)
{
    struct walking *w = ctx;
    struct tag_at key = {id, NULL};
    struct tag_at *hit = w->nat ? bsearch(&key, w->at, w->nat, sizeof *w->at, by_commit) : NULL;
    if (hit) {
        /* a release tag: what came after it is done, and its own release starts here */
        int rc = finish(w, hit->tag->name);
        if (rc)
            return rc;
        w->cur.version = xstrdup(hit->tag->version);
        w->cur.tag = xstrdup(hit->tag->name);
        w->cur.date = utc_date(hit->tag->time);
    }
    struct release_commits *l = &w->cur.commits;
    release_commit_read(XPUSH(&l->items, &l->n, &l->alloc), short_id, id, message);
    return 0;
}

int changelog_walk(const char *dir, const struct vcs_tags *tags, const char *since,
                   const char *since_tag, changelog_fn fn, void *ctx, struct otap_err *err)
{
    struct walking w = {.fn = fn, .ctx = ctx};
    /* final releases only, by commit for a binary search; the highest wins a shared commit */
    w.at = xcalloc(tags->n ? tags->n : 1, sizeof(*w.at));
    for (size_t i = 0; i < tags->n; i++)
        if (!strchr(tags->items[i].version, '-'))
            w.at[w.nat++] = (struct tag_at){tags->items[i].commit, &tags->items[i]};
    qsort(w.at, w.nat, sizeof *w.at, by_commit);
    size_t k = 0;
    for (size_t i = 0; i < w.nat; i++) {
        if (k && !strcmp(w.at[k - 1].commit, w.at[i].commit)) {
            w.at[k - 1] = w.at[i]; /* tags sort lowest first: keep the later */
            continue;
        }
        w.at[k++] = w.at[i];
    }
    w.nat = k;
    int rc = vcs_each_commit_ordered(dir, since, NULL, true, on_commit, &w, err);
    if (rc == 0)
        rc = finish(&w, since_tag); /* the oldest release read, or Unreleased */
    release_free(&w.cur);
    free(w.at);
    return rc;
}

/* changelog_collect's callback: keeps each release. */
static int keep(void *ctx, struct cl_release *r)
{
    struct changelog *cl = ctx;
    *XPUSH(&cl->items, &cl->n, &cl->alloc) = *r;
    memset(r, 0, sizeof(*r));
    return 0;
}

int changelog_collect(const char *dir, const struct vcs_tags *tags, const char *since,
                      const char *since_tag, struct changelog *out, struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    int rc = changelog_walk(dir, tags, since, since_tag, keep, out, err);
    if (rc < 0)
        changelog_release(out);
    return rc;
}

void changelog_release(struct changelog *cl)
{
    for (size_t i = 0; i < cl->n; i++)
        release_free(&cl->items[i]);
    free(cl->items);
    memset(cl, 0, sizeof(*cl));
}

/* ---- rendering ----------------------------------------------------------- */

static bool mentioned(const char *skip, const char *short_id)
{
    if (!skip)
        return false;
    char key[16];
    snprintf(key, sizeof key, "(%s)", short_id);
    return strstr(skip, key) != NULL;
}

static void entry(struct strbuf *sb, const struct release_commit *c)
{
    strbuf_addstr(sb, "- ");
    if (c->breaking)
        strbuf_addstr(sb, "**Breaking:** ");
    if (c->scope)
        strbuf_addf(sb, "**%s:** ", c->scope);
    strbuf_addf(sb, "%s (%s)\n", c->subject ? c->subject : c->header, c->short_id);
    if (c->breaking_note) {
        /* the footer's text, as one nested item: its lines joined */
        strbuf_addstr(sb, "  - ");
        for (const char *p = c->breaking_note; *p; p++)
            strbuf_addch(sb, *p == '\n' ? ' ' : *p);
        strbuf_addch(sb, '\n');
    }
}

/* The entries of one section, or nothing; true when there were any. */
static bool section_entries(struct strbuf *sb, const struct cl_release *r, const char *section,
                            const struct manifest_release *cfg, const char *skip)
{
    bool any = false;
    /* newest first within a section, as people read a changelog */
    for (size_t i = r->commits.n; i-- > 0;) {
        const struct release_commit *c = &r->commits.items[i];
        const char *s = changelog_section_of(cfg, c);
        if (!s || strcmp(s, section) || mentioned(skip, c->short_id))
            continue;
        entry(sb, c);
        any = true;
    }
    return any;
}

void changelog_render_release(struct strbuf *sb, const struct cl_release *r,
                              const struct manifest_release *cfg, const char *skip)
{
    if (r->version)
        strbuf_addf(sb, "## [%s] - %s\n\n", r->version, r->date);
    else
        strbuf_addstr(sb, "## [Unreleased]\n\n");
    for (size_t s = 0; manifest_cl_sections[s]; s++) {
        struct strbuf items = STRBUF_INIT;
        if (section_entries(&items, r, manifest_cl_sections[s], cfg, skip))
            strbuf_addf(sb, "### %s\n\n%s\n", manifest_cl_sections[s], items.buf);
        strbuf_release(&items);
    }
}

static void link_line(struct strbuf *sb, const char *label, const char *web, const char *from,
                      const char *to)
{
    /* GitLab puts its pages under /-/ */
    const char *dash = strstr(web, "gitlab") ? "/-" : "";
    if (from)
        strbuf_addf(sb, "[%s]: %s%s/compare/%s...%s\n", label, web, dash, from, to);
    else if (strcmp(to, "HEAD"))
        strbuf_addf(sb, "[%s]: %s%s/releases/tag/%s\n", label, web, dash, to);
    else
        strbuf_addf(sb, "[%s]: %s%s/commits/HEAD\n", label, web, dash);
}

void changelog_render_links(struct strbuf *sb, const struct changelog *cl, const char *web,
                            const char *prefix)
{
    (void)prefix;
    if (!web)
        return;
    for (size_t i = 0; i < cl->n; i++) {
        const struct cl_release *r = &cl->items[i];
        link_line(sb, r->version ? r->version : "unreleased", web, r->prev_tag,
                  r->tag ? r->tag : "HEAD");
    }
}

static const char header[] =
    "# Changelog\n\n"
    "All notable changes to this project will be documented in this file.\n\n"
    "The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\n"
    "and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).\n\n";

void changelog_render_header(struct strbuf *sb)
{
    strbuf_addstr(sb, header);
}

void changelog_render(struct strbuf *sb, const struct changelog *cl,
                      const struct manifest_release *cfg, const char *web)
{
    strbuf_addstr(sb, header);
    for (size_t i = 0; i < cl->n; i++)
        changelog_render_release(sb, &cl->items[i], cfg, NULL);
    changelog_render_links(sb, cl, web, cfg->tag_prefix);
}

/* ---- inserting into a file a team keeps ---------------------------------- */

struct line {
    const char *s;
    size_t n; /* without the newline */
};

struct lines {
    struct line *items;
    size_t n, alloc;
};

static void split_lines(const char *t, size_t len, struct lines *out)
{
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(t + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - t) : len;
        *XPUSH(&out->items, &out->n, &out->alloc) = (struct line){t + at, end - at};
        at = end + 1;
    }
}

static bool line_starts(const struct line *l, const char *p)
{
    size_t n = strlen(p);
    return l->n >= n && !strncasecmp(l->s, p, n);
}

static bool is_release_heading(const struct line *l)
{
    return line_starts(l, "## ");
}

static bool is_unreleased(const struct line *l)
{
    return line_starts(l, "## [unreleased]") || line_starts(l, "## unreleased");
}

static bool is_link_ref(const struct line *l)
{
    if (!l->n || l->s[0] != '[')
        return false;
    const char *close = memchr(l->s, ']', l->n);
    return close && (size_t)(close - l->s) + 1 < l->n && close[1] == ':';
}

static void add_lines(struct strbuf *sb, const struct lines *L, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        strbuf_add(sb, L->items[i].s, L->items[i].n);
        strbuf_addch(sb, '\n');
    }
}

/* Which of Keep a Changelog's sections a "### Name" line is; -1 for another. */
static int section_index(const struct line *h)
{
    for (int s = 0; manifest_cl_sections[s]; s++) {
        size_t n = strlen(manifest_cl_sections[s]);
        if (h->n - 4 >= n && !strncasecmp(h->s + 4, manifest_cl_sections[s], n) &&
            (h->n - 4 == n || isspace((unsigned char)h->s[4 + n])))
            return s;
    }
    return -1;
}

struct subsection {
    int which;       /* section_index */
    size_t from, to; /* the heading and its lines, trailing blank lines left out */
};

/*
 * The Unreleased body (lines from..to) merged with r's new entries, in
 * Keep a Changelog's order of sections: each section keeps its lines and
 * gains the new entries at its end; sections of other names follow as they
 * were. An intro before the first ### stays first.
 */
static void merge_body(struct strbuf *sb, const struct lines *L, size_t from, size_t to,
                       const struct cl_release *r, const struct manifest_release *cfg,
                       const char *skip)
{
    size_t i = from;
    while (i < to && !line_starts(&L->items[i], "### "))
        i++;
    size_t end_intro = i;
    while (end_intro > from && !L->items[end_intro - 1].n)
        end_intro--;
    if (end_intro > from) {
        add_lines(sb, L, from, end_intro);
        strbuf_addch(sb, '\n');
    }
    struct subsection *subs = NULL;
    size_t nsubs = 0, alloc = 0;
    while (i < to) {
        size_t j = i + 1;
        while (j < to && !line_starts(&L->items[j], "### "))
            j++;
        size_t last = j;
        while (last > i + 1 && !L->items[last - 1].n)
            last--;
        *XPUSH(&subs, &nsubs, &alloc) = (struct subsection){section_index(&L->items[i]), i, last};
        i = j;
    }
    for (int s = 0; manifest_cl_sections[s]; s++) {
        struct strbuf items = STRBUF_INIT;
        bool had = false;
        for (size_t k = 0; k < nsubs; k++) {
            if (subs[k].which != s)
                continue;
            /* a section written twice by hand is merged under its first heading */
            add_lines(&items, L, had ? subs[k].from + 1 : subs[k].from, subs[k].to);
            had = true;
        }
        struct strbuf fresh = STRBUF_INIT;
        section_entries(&fresh, r, manifest_cl_sections[s], cfg, skip);
        if (had) {
            strbuf_add(sb, items.buf, items.len);
            if (items.len && !strchr(items.buf, '\n')[1])
                strbuf_addch(sb, '\n'); /* a heading with no lines yet */
            strbuf_add(sb, fresh.buf, fresh.len);
            strbuf_addch(sb, '\n');
        } else if (fresh.len) {
            strbuf_addf(sb, "### %s\n\n%s\n", manifest_cl_sections[s], fresh.buf);
        }
        strbuf_release(&items);
        strbuf_release(&fresh);
    }
    for (size_t k = 0; k < nsubs; k++)
        if (subs[k].which < 0) {
            add_lines(sb, L, subs[k].from, subs[k].to);
            strbuf_addch(sb, '\n');
        }
    free(subs);
}

int changelog_insert(const char *path, const char *text, size_t len, const struct cl_release *r,
                     const struct manifest_release *cfg, const char *web, char **out,
                     size_t *out_len, struct otap_err *err)
{
    *out = NULL;
    if (memchr(text, '\0', len))
        return otap_err_set(err, OTAP_EINVALID, "%s: a binary file is no changelog", path);
    struct lines L = {0};
    split_lines(text, len, &L);
    size_t unrel = L.n, first = L.n, links = L.n;
    for (size_t i = 0; i < L.n; i++) {
        if (unrel == L.n && is_unreleased(&L.items[i]))
            unrel = i;
        else if (first == L.n && is_release_heading(&L.items[i]) && !is_unreleased(&L.items[i]))
            first = i;
        if (r->version && is_release_heading(&L.items[i])) {
            char want[128];
            snprintf(want, sizeof want, "## [%s]", r->version);
            if (line_starts(&L.items[i], want)) {
                free(L.items);
                return otap_err_set(err, OTAP_EREFUSED, "%s:%zu: has a section for %s already",
                                    path, i + 1, r->version);
            }
        }
    }
    /* the link references at the end, after every section */
    links = L.n;
    while (links > 0 && (is_link_ref(&L.items[links - 1]) || !L.items[links - 1].n))
        links--;
    while (links < L.n && !is_link_ref(&L.items[links]))
        links++;
    if (first > links)
        first = links;
    struct strbuf sb = STRBUF_INIT;
    /* before the sections: the file's own heading and words */
    size_t head_end = unrel < first ? unrel : first;
    if (head_end == 0 && L.n == 0)
        strbuf_addstr(&sb, header);
    add_lines(&sb, &L, 0, head_end);
    if (head_end && L.items[head_end - 1].n)
        strbuf_addch(&sb, '\n');
    size_t body_from = unrel < first ? unrel + 1 : first, body_to = first;
    while (body_from < body_to && !L.items[body_from].n)
        body_from++;
    if (r->version) {
        strbuf_addstr(&sb, unrel < first ? "" : "## [Unreleased]\n\n");
        if (unrel < first) {
            add_lines(&sb, &L, unrel, unrel + 1);
            strbuf_addch(&sb, '\n');
        }
        strbuf_addf(&sb, "## [%s] - %s\n\n", r->version, r->date);
    } else if (unrel < first) {
        add_lines(&sb, &L, unrel, unrel + 1);
        strbuf_addch(&sb, '\n');
    } else {
        strbuf_addstr(&sb, "## [Unreleased]\n\n");
    }
    merge_body(&sb, &L, body_from, body_to, r, cfg, text);
    /* the rest: every earlier release as it was, then the links */
    add_lines(&sb, &L, first, links);
    if (web) {
        if (links == L.n && sb.len && (sb.len < 2 || strcmp(sb.buf + sb.len - 2, "\n\n")))
            strbuf_addch(&sb, '\n');
        bool done_unrel = false, done_rel = !r->version;
        for (size_t i = links; i < L.n; i++) {
            const struct line *l = &L.items[i];
            if (line_starts(l, "[unreleased]:")) {
                /* the one line otap rewrites: where Unreleased starts from moves */
                const char *from = r->version ? r->tag : r->prev_tag;
                link_line(&sb, "unreleased", web, from, "HEAD");
                done_unrel = true;
                if (!done_rel) {
                    link_line(&sb, r->version, web, r->prev_tag, r->tag);
                    done_rel = true;
                }
                continue;
            }
            if (!done_rel && is_link_ref(l)) {
                link_line(&sb, r->version, web, r->prev_tag, r->tag);
                done_rel = true;
            }
            add_lines(&sb, &L, i, i + 1);
        }
        if (!done_unrel)
            link_line(&sb, "unreleased", web, r->version ? r->tag : r->prev_tag, "HEAD");
        if (!done_rel)
            link_line(&sb, r->version, web, r->prev_tag, r->tag);
    } else {
        add_lines(&sb, &L, links, L.n);
    }
    free(L.items);
    /* one newline at the end, whatever the file had */
    while (sb.len > 1 && sb.buf[sb.len - 1] == '\n' && sb.buf[sb.len - 2] == '\n')
        strbuf_setlen(&sb, sb.len - 1);
    *out = strbuf_detach(&sb, out_len);
    return 0;
}

char *changelog_section_text(const char *text, const char *version)
{
    struct lines L = {0};
    split_lines(text, strlen(text), &L);
    char *want = xasprintf("## [%s]", version);
    size_t at = L.n;
    for (size_t i = 0; i < L.n && at == L.n; i++)
        if (line_starts(&L.items[i], want) &&
            (L.items[i].n == strlen(want) || L.items[i].s[strlen(want)] == ' '))
            at = i;
    free(want);
    if (at == L.n) {
        free(L.items);
        return NULL;
    }
    size_t from = at + 1, to = from;
    while (to < L.n && !is_release_heading(&L.items[to]) && !is_link_ref(&L.items[to]))
        to++;
    while (from < to && !L.items[from].n)
        from++;
    while (to > from && !L.items[to - 1].n)
        to--;
    struct strbuf sb = STRBUF_INIT;
    add_lines(&sb, &L, from, to);
    if (sb.len)
        strbuf_setlen(&sb, sb.len - 1);
    free(L.items);
    return strbuf_detach(&sb, NULL);
}
