/*
 * The shape of a secret rule, and otap's built-in set (secrets_rules.c).
 */
#ifndef OTAP_SECRETS_RULES_H
#define OTAP_SECRETS_RULES_H

#include <stddef.h>

enum secret_rule_flags {
    /* the match may run over many lines (key blocks): confirm in a larger window */
    SR_MULTILINE = 1 << 0,
    /* a key = value heuristic, not a format: placeholders and references are
     * not secrets, and a format rule on the same secret wins */
    SR_GENERIC = 1 << 1,
    /* with SR_GENERIC: NAME = VALUE, where only a literal value counts (quoted in
     * code, unquoted in config files), never a call, an identifier or a name */
    SR_ASSIGNMENT = 1 << 2,
    /* a service's name in the key is what identifies the secret (KEYED in
     * secrets_rules.c): more specific than a generic rule, less than a
     * format of its own, which wins on the same secret */
    SR_KEYED = 1 << 3,
    /* the secret mixes upper case, lower case and digits, as random base62
     * does: for a short prefix (s.) that names (s.AcceptanceTimeout) share */
    SR_MIXED = 1 << 4,
};

#define SECRET_RULE_EXAMPLES 6

struct secret_rule_def {
    const char *id;
    const char *description;
    /* found by Vectorscan over the whole input, confirmed by PCRE2 */
    const char *pattern;
    /* when set, PCRE2 confirms with this instead (a multi-line form) */
    const char *confirm;
    /* comma-separated; when set, the match must contain one (any case) */
    const char *keywords;
    /* Shannon entropy (bits per byte) the secret must reach; 0: none */
    double entropy;
    /* the capture group that holds the secret; 0: the whole match */
    int group;
    unsigned flags;
    /* NULL-terminated, or NULL: values of this format that are published
     * examples (in SDKs and their docs), not anyone's credential */
    const char *const *known;
    /* the gitleaks rule id for the same credential, or NULL */
    const char *gitleaks;
    /* NULL-terminated: lines this rule must report, and must not */
    const char *positive[SECRET_RULE_EXAMPLES];
    const char *negative[SECRET_RULE_EXAMPLES];
};

extern const struct secret_rule_def secret_builtin_rules[];
extern const size_t secret_builtin_nrules;

#endif
