/*
 * Arming the redactor with this project's secrets before anything is
 * printed: every secret the config could hand a command, whichever
 * environment it names.
 */
#ifndef OTAP_ENVREDACT_H
#define OTAP_ENVREDACT_H

#include "base/redact.h"
#include "manifest/manifest.h"

/*
 * Registers in r the secrets of the process environment (process, a
 * NULL-terminated "K=V" list) and, when m is given, of every dotenv file
 * in its root (.env, .env.local, .env.ENV, .env.ENV.local; not
 * .env.example and the like, which hold placeholders): the values of
 * secret variables (contract_is_secret()), and the passwords inside any
 * value (a URL's, password=...).
 */
void envredact_arm(struct redactor *r, const struct manifest *m, char *const *process);

#endif
