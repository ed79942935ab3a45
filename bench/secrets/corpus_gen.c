/*
 * The secret-scanning benchmark's corpus: source-like text in many files
 * with secrets of known kinds planted at known lines. Seeded, so every
 * run writes the same bytes.
 *
 * usage: otap-secrets-corpus DIR MEGABYTES [SEED]
 * writes DIR/dNN/fNNNNN.EXT and DIR/../planted.tsv (path, line, kind)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t rng;

static uint64_t next(void)
{
    /* xorshift64*: fast, and the same sequence on every machine */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(next() % n);
}

static const char *const words[] = {
    "user",    "order",    "account", "request", "response", "handler", "config",  "cache",
    "buffer",  "index",    "value",   "result",  "item",     "list",    "map",     "node",
    "parent",  "child",    "client",  "server",  "session",  "event",   "queue",   "worker",
    "task",    "job",      "retry",   "limit",   "offset",   "page",    "count",   "total",
    "price",   "amount",   "invoice", "payment", "customer", "address", "country", "region",
    "metric",  "span",     "trace",   "logger",  "level",    "format",  "parse",   "render",
    "update",  "delete",   "create",  "fetch",   "store",    "load",    "save",    "close",
    "open",    "read",     "write",   "flush",   "commit",   "branch",  "deploy",  "build",
    "release", "version",  "feature", "flag",    "rollout",  "health",  "ready",   "probe",
    "timeout", "deadline", "context", "scope",   "module",   "package", "import",  "export",
};
#define NWORDS (sizeof words / sizeof words[0])

static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
static const char HEX[] = "0123456789abcdef";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char UPPER32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char DIGITS[] = "0123456789";

static void rnd(FILE *f, const char *alphabet, size_t n)
{
    size_t k = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        fputc(alphabet[next() % k], f);
}

static const char *w(void)
{
    return words[pick(NWORDS)];
}

/* One line of ordinary code, comment or data; returns lines written. */
static int filler(FILE *f)
{
    switch (pick(14)) {
    case 0:
        fprintf(f, "    let %s_%s = %s_%s(%s, %u);\n", w(), w(), w(), w(), w(), pick(1000));
        return 1;
    case 1:
        fprintf(f, "    // %s the %s before the %s is %s, then %s it\n", w(), w(), w(), w(), w());
        return 1;
    case 2:
        fprintf(f, "    if (%s.%s > %u) {\n        return %s;\n    }\n", w(), w(), pick(500), w());
        return 3;
    case 3:
        fprintf(f, "import { %s, %s } from \"./%s/%s\";\n", w(), w(), w(), w());
        return 1;
    case 4:
        fprintf(f, "    const %s = \"%s %s %s\";\n", w(), w(), w(), w());
        return 1;
    case 5:
        fprintf(f, "    commit: \"");
        rnd(f, HEX, 40);
        fprintf(f, "\",\n");
        return 1;
    case 6:
        fprintf(f, "    \"id\": \"");
        rnd(f, HEX, 8);
        fputc('-', f);
        rnd(f, HEX, 4);
        fputc('-', f);
        rnd(f, HEX, 4);
        fputc('-', f);
        rnd(f, HEX, 4);
        fputc('-', f);
        rnd(f, HEX, 12);
        fprintf(f, "\",\n");
        return 1;
    case 7:
        fprintf(f, "    url = \"https://%s.%s.internal/%s/%s?page=%u\"\n", w(), w(), w(), w(),
                pick(99));
        return 1;
    case 8:
        fprintf(f, "    %s_count = %s_count + %u\n", w(), w(), pick(10));
        return 1;
    case 9:
        fprintf(f, "    data: \"");
        rnd(f, B64, 76);
        fprintf(f, "\"\n");
        return 1;
    case 10:
        fprintf(f, "def %s_%s(self, %s, %s=None):\n    \"\"\"%s %s %s.\"\"\"\n", w(), w(), w(), w(),
                w(), w(), w());
        return 2;
    case 11:
        fprintf(f, "    for (size_t i = 0; i < %s->n; i++)\n        %s(%s->items[i]);\n", w(), w(),
                w());
        return 2;
    case 12:
        fprintf(f, "  %s:\n    %s: %s\n    %s: %u\n", w(), w(), w(), w(), pick(65536));
        return 3;
    default:
        fputc('\n', f);
        return 1;
    }
}

static const char *const kinds[] = {
    "aws-access-key-id",
    "github-pat",
    "gitlab-pat",
    "slack-bot-token",
    "slack-webhook-url",
    "stripe-secret-key",
    "sendgrid-api-key",
    "npm-access-token",
    "private-key",
    "gcp-api-key",
    "database-url-password",
    "openai-api-key",
    "generic-password",
    "anthropic-api-key",
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* A secret of kind k on one line (a key block: several); returns lines written. */
static int plant(FILE *f, unsigned k)
{
    switch (k) {
    case 0:
        fprintf(f, "    aws_access_key_id = \"AKIA");
        rnd(f, UPPER32, 16);
        fprintf(f, "\"\n");
        return 1;
    case 1:
        fprintf(f, "    GITHUB_TOKEN = \"ghp_");
        rnd(f, ALNUM, 36);
        fprintf(f, "\"\n");
        return 1;
    case 2:
        fprintf(f, "    gitlab_token: glpat-");
        rnd(f, ALNUM, 20);
        fputc('\n', f);
        return 1;
    case 3:
        fprintf(f, "    SLACK_BOT_TOKEN=xoxb-");
        rnd(f, DIGITS, 12);
        fputc('-', f);
        rnd(f, DIGITS, 13);
        fputc('-', f);
        rnd(f, ALNUM, 24);
        fputc('\n', f);
        return 1;
    case 4:
        fprintf(f, "    webhook = \"https://hooks.slack.com/services/T");
        rnd(f, UPPER32, 8);
        fprintf(f, "/B");
        rnd(f, UPPER32, 10);
        fputc('/', f);
        rnd(f, ALNUM, 24);
        fprintf(f, "\"\n");
        return 1;
    case 5:
        fprintf(f, "    stripe.api_key = \"sk_live_");
        rnd(f, ALNUM, 24);
        fprintf(f, "\"\n");
        return 1;
    case 6:
        fprintf(f, "    SENDGRID_API_KEY = 'SG.");
        rnd(f, ALNUM, 22);
        fputc('.', f);
        rnd(f, ALNUM, 43);
        fprintf(f, "'\n");
        return 1;
    case 7:
        fprintf(f, "//registry.npmjs.org/:_authToken=npm_");
        rnd(f, ALNUM, 36);
        fputc('\n', f);
        return 1;
    case 8:
        fprintf(f, "-----BEGIN RSA PRIVATE KEY-----\n");
        for (int i = 0; i < 6; i++) {
            rnd(f, B64, 64);
            fputc('\n', f);
        }
        fprintf(f, "-----END RSA PRIVATE KEY-----\n");
        return 8;
    case 9:
        fprintf(f, "    firebase: { apiKey: \"AIza");
        rnd(f, ALNUM, 35);
        fprintf(f, "\" },\n");
        return 1;
    case 10:
        fprintf(f, "DATABASE_URL=postgresql://app:");
        rnd(f, ALNUM, 20);
        fprintf(f, "@db.internal:5432/app\n");
        return 1;
    case 11:
        fprintf(f, "    OPENAI_API_KEY=sk-proj-");
        rnd(f, ALNUM, 64);
        fprintf(f, "T3BlbkFJ");
        rnd(f, ALNUM, 64);
        fputc('\n', f);
        return 1;
    case 12:
        fprintf(f, "    db_password = \"");
        rnd(f, ALNUM, 18);
        fprintf(f, "\"\n");
        return 1;
    default:
        fprintf(f, "    ANTHROPIC_API_KEY=sk-ant-api03-");
        rnd(f, ALNUM, 93);
        fprintf(f, "AA\n");
        return 1;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: otap-secrets-corpus DIR MEGABYTES [SEED]\n");
        return 2;
    }
    const char *dir = argv[1];
    long long target = atoll(argv[2]) * 1000000LL;
    rng = argc > 3 ? strtoull(argv[3], NULL, 10) : 20261122;
    if (!rng)
        rng = 1;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    char path[8192];
    snprintf(path, sizeof path, "%s/../planted.tsv", dir);
    FILE *planted = fopen(path, "w");
    if (!planted) {
        perror(path);
        return 1;
    }
    static const char *const ext[] = {"js", "py", "c", "go", "yaml", "ts", "rb", "env"};
    long long written = 0;
    unsigned file = 0, nplanted = 0, kind = 0;
    while (written < target) {
        char sub[2048];
        snprintf(sub, sizeof sub, "%s/d%02u", dir, file % 100);
        mkdir(sub, 0755);
        snprintf(path, sizeof path, "%s/f%05u.%s", sub, file, ext[file % 8]);
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            return 1;
        }
        long long size = 20000 + (long long)pick(180000);
        int line = 1;
        /* one planted secret per ~400 kB on average */
        int plant_at = pick(4) == 0 ? -1 : (int)pick(2000);
        while (ftell(f) < size) {
            if (plant_at >= 0 && line >= plant_at) {
                fprintf(planted, "d%02u/f%05u.%s\t%d\t%s\n", file % 100, file, ext[file % 8], line,
                        kinds[kind]);
                line += plant(f, kind);
                kind = (kind + 1) % NKINDS;
                nplanted++;
                plant_at = -1;
            } else {
                line += filler(f);
            }
        }
        written += ftell(f);
        fclose(f);
        file++;
    }
    fclose(planted);
    fprintf(stderr, "corpus: %u files, %.1f MB, %u planted secrets of %zu kinds\n", file,
            (double)written / 1e6, nplanted, NKINDS);
    return 0;
}
