/*
 * Parity between two environments (seed 000 §4: "keep the environments
 * alike but for their values"): what differs besides values.
 *
 * Given two contract evaluations made from files only (the process
 * environment is the same for both and says nothing), each difference is
 * one of: a variable required in one only; set in one's files only; a URL
 * scheme that differs; a value of the contract's type in one only; a name
 * the contract does not know, set in one's files only. Messages name
 * variables, files and schemes, never values.
 */
#ifndef OTAP_PARITY_H
#define OTAP_PARITY_H

#include <stddef.h>

#include "config/contract.h"

struct parity_diff {
    char *variable;
    const char *kind; /* "required", "presence", "scheme", "type" */
    char *message;
};

struct parity {
    struct parity_diff *items;
    size_t n, alloc;
};

/* Fills out with every difference between a and b, in contract order. */
void parity_compare(const struct contract_eval *a, const struct contract_eval *b,
                    struct parity *out);
void parity_release(struct parity *p);

#endif
