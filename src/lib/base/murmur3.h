/*
 * MurmurHash3 x86_32 (Austin Appleby's, public domain), the hash flagd's
 * fractional split and Unleash's rollouts bucket users with: otap must
 * give the same bucket, bit for bit. No Debian library otap links offers
 * it, and it is twenty lines.
 */
#ifndef OTAP_MURMUR3_H
#define OTAP_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

uint32_t murmur3_32(const void *data, size_t len, uint32_t seed);

#endif
