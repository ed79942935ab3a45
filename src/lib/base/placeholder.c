/*
 * Placeholder values (placeholder.h), in one list that the contract, the
 * leak audit and the secret scanner share.
 */
#include "base/placeholder.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "base/banned.h"

/* Anywhere in the value, in any case. */
static const char *const contains[] = {
    "changeme", "change-me",   "change_me",  "changethis", "change-this", "change_this",
    "changeit", "placeholder", "replace-me", "replace_me", "replaceme",   "your-",
    "your_",    "yourpass",    "xxxx",       "todo",       "fixme",       "dummy",
    "example",  "sample",      "insert-",    "insert_",    "redacted",    NULL,
};

/* The whole value, in any case. */
static const char *const whole[] = {
    "secret",  "password", "passwd", "pass", "pwd",      "test",      "default", "admin",
    "root",    "token",    "key",    "user", "username", "12345678",  "123456",  "qwerty",
    "letmein", "***",      "none",   "null", "nil",      "undefined", "string",  NULL,
};

static bool contains_ci(const char *s, size_t len, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= len; i++)
        if (!strncasecmp(s + i, word, w))
            return true;
    return false;
}

/*
 * Seven characters in alphabet order (abcdefg, 1234567, KLMNOPQ): typed,
 * not generated. In a random token such a run has odds of about one in 62^6
 * per position, so this holds for values of any length.
 */
#define KEYBOARD_RUN 7

static bool keyboard_run(const char *s, size_t len)
{
    size_t run = 1;
    for (size_t i = 1; i < len; i++) {
        unsigned char a = (unsigned char)s[i - 1], b = (unsigned char)s[i];
        run = (b == a + 1 && isalnum(a) && isalnum(b)) ? run + 1 : 1;
        if (run >= KEYBOARD_RUN)
            return true;
    }
    return false;
}

bool placeholder_value(const char *s, size_t len)
{
    if (!len)
        return true;
    if (keyboard_run(s, len))
        return true;
    /* a key block or a long token holds any short word somewhere by chance */
    if (len > PLACEHOLDER_MAX)
        return false;
    /* <your-token>, ${DB_PASSWORD}, {{ .Values.password }} */
    if ((len >= 2 && s[0] == '<' && s[len - 1] == '>') || (len >= 3 && s[0] == '$' && s[1] == '{'))
        return true;
    for (int i = 0; whole[i]; i++)
        if (strlen(whole[i]) == len && !strncasecmp(s, whole[i], len))
            return true;
    for (int i = 0; contains[i]; i++)
        if (contains_ci(s, len, contains[i]))
            return true;
    /* one character repeated, like "aaaaaaaa" or "********" */
    size_t i = 1;
    while (i < len && s[i] == s[0])
        i++;
    return i == len;
}
