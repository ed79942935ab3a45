/*
 * The one list of placeholder values: what documentation and templates put
 * where a secret goes (changethis, changeme, your-api-key, <token>,
 * ${VAR}, xxx..., abcdefg or 1234567 typed in a row). One meaning everywhere: a placeholder is not
 * a leaked secret (the scanner and 'env leaks' stay quiet about it), and it is not a secret either
 * ('env check' refuses it where a real one is required).
 */
#ifndef OTAP_PLACEHOLDER_H
#define OTAP_PLACEHOLDER_H

#include <stdbool.h>
#include <stddef.h>

/* Longer values are never placeholders: by chance, random text holds any short word. */
#define PLACEHOLDER_MAX 100

bool placeholder_value(const char *s, size_t len);

#endif
