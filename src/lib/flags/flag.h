/*
 * One flag evaluator, for the CLI, the server and the tests: a flag's
 * variants and default, whether it is on in the environment, targeting
 * rules on context attributes, and a fractional split by weights that
 * buckets exactly as flagd does.
 *
 * Reasons are OpenFeature's: STATIC (on, no targeting), TARGETING_MATCH (a
 * rule matched), SPLIT (the fractional split chose), DEFAULT (targeting
 * did not decide), DISABLED (off: the default, which is off), ERROR (with
 * an error code: TARGETING_KEY_MISSING, TYPE_MISMATCH, GENERAL).
 */
#ifndef OTAP_FLAG_H
#define OTAP_FLAG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum flag_op {
    FLAG_OP_EQ,
    FLAG_OP_IN,
    FLAG_OP_STARTS,
    FLAG_OP_ENDS,
    FLAG_OP_SEMVER_GE,
    FLAG_OP_SEMVER_LT
};

/* attr op value -> variant; attr is a context path ("user.email") */
struct flag_rule {
    char *attr;
    enum flag_op op;
    json_t *value; /* a string, or an array of strings for FLAG_OP_IN */
    char *variant;
};

/* A part of the split's bucketing key. */
enum flag_part_kind { FLAG_PART_LITERAL, FLAG_PART_ATTR, FLAG_PART_FLAG_KEY };
struct flag_part {
    enum flag_part_kind kind;
    char *text; /* the literal, or the attribute's path */
};

struct flag_split {
    char **variants;
    long long *weights; /* a negative weight counts as 0 */
    size_t n;
    struct flag_part *by; /* the bucketing key's parts; none: the flag key, then targetingKey */
    size_t nby;
};

struct flag_def {
    char *key;
    char **variant_names;
    json_t **variant_values;
    size_t nvariants;
    char *default_variant;
    bool enabled;
    struct flag_rule *rules;
    size_t nrules;
    struct flag_split split; /* n == 0: none */
};

struct flag_result {
    json_t *value;       /* borrowed from the flag; NULL on an error */
    const char *variant; /* borrowed */
    const char *reason;
    const char *error_code; /* NULL unless reason is ERROR */
};

void flag_eval(const struct flag_def *f, json_t *context, struct flag_result *out);
void flag_def_release(struct flag_def *f);

/* flagd's fractional bucket: (hash x total) >> 32, the index of the weight it falls in, or -1. */
int flag_bucket(const char *key, size_t len, const long long *weights, size_t n);

/* Unleash's gradual rollout: murmur3("group:id", 0) % 100 + 1 <= percent. */
bool flag_unleash_rollout(const char *group, const char *id, int percent);

#endif
