/*
 * The test tool behind t0800: plants generated passwords in projects and
 * then checks that no output of otap holds one, whole or in a piece.
 *
 *   leakcheck gen DIR N SEED   makes DIR/p0000 ... with a .env holding
 *                              four passwords each (DATABASE_URL's, typed
 *                              as users paste them: unencoded, POSTGRES_
 *                              PASSWORD, SECRET_KEY, MINIO_ROOT_PASSWORD)
 *                              and the file 'passwords' listing them
 *   leakcheck check DIR        reads every DIR/p*\/out.* and reports each
 *                              output that holds a password or any 6-byte
 *                              piece of one; exit 1 when one does
 *
 * Passwords are 12 to 40 characters of printable ASCII (space and every
 * character a URL reserves included), now and then a UTF-8 letter, drawn
 * from a seeded generator so that a failure can be replayed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PIECE 6
#define PER_PROJECT 4

static uint64_t state;

static uint64_t rng(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static void gen_password(char *out, size_t cap)
{
    static const char *const utf8[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91", "\xd0\x96"};
    size_t n = 12 + rng() % 29, len = 0;
    for (size_t i = 0; i < n && len + 5 < cap; i++) {
        if (rng() % 15 == 0) {
            const char *u = utf8[rng() % 4];
            memcpy(out + len, u, strlen(u));
            len += strlen(u);
        } else {
            out[len++] = (char)(0x20 + rng() % 95);
        }
    }
    /* no space at either end: a dotenv value is trimmed there, and that is not a leak */
    if (out[0] == ' ')
        out[0] = 'x';
    if (out[len - 1] == ' ')
        out[len - 1] = 'y';
    out[len] = '\0';
}

/* A double-quoted dotenv value: \" \\ \$ escaped, so every password survives. */
static void put_quoted(FILE *f, const char *prefix, const char *value, const char *suffix)
{
    fprintf(f, "\"%s", prefix);
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '$')
            fputc('\\', f);
        fputc(*p, f);
    }
    fprintf(f, "%s\"\n", suffix);
}

static int gen(const char *dir, int n, unsigned long seed)
{
    state = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/p%04d", dir, i);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
            perror(path);
            return 2;
        }
        char pw[PER_PROJECT][256];
        for (int k = 0; k < PER_PROJECT; k++)
            gen_password(pw[k], sizeof pw[k]);
        snprintf(path, sizeof path, "%s/p%04d/.env", dir, i);
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            return 2;
        }
        fputs("DATABASE_URL=", f);
        put_quoted(f, "postgresql://app:", pw[0], "@127.0.0.1:1/app");
        fputs("POSTGRES_PASSWORD=", f);
        put_quoted(f, "", pw[1], "");
        fputs("SECRET_KEY=", f);
        put_quoted(f, "", pw[2], "");
        fputs("MINIO_ROOT_PASSWORD=", f);
        put_quoted(f, "", pw[3], "");
        fclose(f);
        snprintf(path, sizeof path, "%s/p%04d/passwords", dir, i);
        f = fopen(path, "w");
        if (!f) {
            perror(path);
            return 2;
        }
        for (int k = 0; k < PER_PROJECT; k++)
            fprintf(f, "%s\n", pw[k]);
        fclose(f);
    }
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static const char *leak_in(const char *text, size_t len, const char *pw)
{
    size_t n = strlen(pw);
    for (size_t i = 0; i + PIECE <= n; i++) {
        const char *hit = memmem(text, len, pw + i, PIECE);
        if (hit)
            return hit;
    }
    return NULL;
}

static int check(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 2;
    }
    struct dirent *de;
    long projects = 0, passwords = 0, outputs = 0, leaks = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] != 'p')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/passwords", dir, de->d_name);
        size_t plen;
        char *pws = slurp(path, &plen);
        if (!pws)
            continue;
        projects++;
        char *list[PER_PROJECT] = {0};
        int np = 0;
        for (char *save = NULL, *line = strtok_r(pws, "\n", &save); line && np < PER_PROJECT;
             line = strtok_r(NULL, "\n", &save))
            list[np++] = line;
        passwords += np;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        DIR *pd = opendir(path);
        struct dirent *oe;
        while (pd && (oe = readdir(pd))) {
            if (strncmp(oe->d_name, "out.", 4))
                continue;
            char opath[8192];
            snprintf(opath, sizeof opath, "%s/%s", path, oe->d_name);
            size_t olen;
            char *text = slurp(opath, &olen);
            if (!text)
                continue;
            outputs++;
            for (int k = 0; k < np; k++) {
                const char *hit = leak_in(text, olen, list[k]);
                if (hit) {
                    leaks++;
                    long at = (long)(hit - text);
                    fprintf(stderr, "LEAK %s: password %d (%s) at byte %ld: ...%.*s...\n", opath,
                            k + 1, list[k], at,
                            (int)(olen - (size_t)at < 60 ? olen - (size_t)at : 60), hit);
                }
            }
            free(text);
        }
        if (pd)
            closedir(pd);
        free(pws);
    }
    closedir(d);
    printf("leakcheck: %ld passwords in %ld projects, %ld outputs, %ld leaks\n", passwords,
           projects, outputs, leaks);
    return leaks ? 1 : projects ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "gen"))
        return gen(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 10));
    if (argc == 3 && !strcmp(argv[1], "check"))
        return check(argv[2]);
    fprintf(stderr, "usage: leakcheck gen DIR N SEED | leakcheck check DIR\n");
    return 2;
}
