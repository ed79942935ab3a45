/*
 * UTF-8 validation for text otap parses (manifests, and later dotenv
 * files). YAML requires valid Unicode, and libfyaml 0.7.12 loops forever
 * on some invalid sequences (an invalid byte in a directive line), so
 * input is validated before it reaches a parser.
 */
#ifndef OTAP_UTF8_H
#define OTAP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when s[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). Otherwise false, and *bad gets the
 * offset of the first byte of the first invalid sequence.
 */
bool utf8_valid(const char *s, size_t len, size_t *bad);

/* The length of the well-formed sequence at s (1 to 4), or 0 when it is not one. */
size_t utf8_seq_len(const char *s, size_t left);

/* 1-based line and column (in characters) of offset in s. */
void utf8_position(const char *s, size_t offset, int *line, int *col);

#endif
