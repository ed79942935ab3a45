/*
 * Functions that must not be used in otap, banned at compile time in the
 * manner of git's banned.h. Each has a bounded or checked replacement:
 * xstrdup/strbuf for copies, xasprintf/snprintf for formatting, the
 * checked parsers in num.h for numbers, gmtime_r/localtime_r for time.
 *
 * Every otap source file includes it after all other headers, so that the
 * system headers' own declarations are not rewritten.
 */
#ifndef OTAP_BANNED_H
#define OTAP_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef asctime
#define asctime(t) BANNED(asctime)

#endif
