/*
 * Path globs as .gitignore and CI tools write them: '*' and '?' stay
 * within one path segment, '**' crosses any number of them (api/<**> is
 * everything below api/, <**>/test_*.py every test file at any depth;
 * written here with <> only because C comments end at star-slash), and
 * [...] is a character class.
 */
#ifndef OTAP_GLOB_H
#define OTAP_GLOB_H

#include <stdbool.h>

/* Does path (relative, '/'-separated) match pattern? */
bool glob_match(const char *pattern, const char *path);

#endif
