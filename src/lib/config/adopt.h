/*
 * What a repository already says, read for 'otap init': the variables of
 * its .env.example and .env files, the services of its compose file, its
 * PORT_REGISTRY.yaml, its migration folders and its package.json scripts. Each becomes part of an
 * otap.yaml whose every guess carries a comment saying where it came from.
 */
#ifndef OTAP_ADOPT_H
#define OTAP_ADOPT_H

#include <stddef.h>

#include "base/diag.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/strvec.h"

struct adopt {
    struct strvec read; /* the files that were read, as shown in the header */
    struct strbuf config, services, gates, database, ports;
    size_t nvars, nservices, ngates;
    struct strvec gate_names;
    struct strvec push_branches; /* the branches the workflows run on when pushed */
    struct strvec notes;         /* what was seen but not turned into YAML */
};

/*
 * Reads what dir holds. Returns 1 when it found anything to adopt, 0 when
 * nothing (a new project: otap init writes its template), OTAP_EEXTERNAL
 * when a file that is there cannot be read. Problems in the files read
 * (a compose file that is not YAML) go to diags as warnings.
 */
int adopt_read(const char *dir, struct adopt *a, struct diag_list *diags, struct otap_err *err);
/* The whole otap.yaml for project. */
void adopt_manifest(const struct adopt *a, const char *project, struct strbuf *out);
void adopt_release(struct adopt *a);

#endif
