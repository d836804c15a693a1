/*
 * Text encodings: hex, base64 (standard and URL-safe, no padding for the latter), base32
 * (RFC 4648), and UUIDs. Decoders are strict: any character outside the alphabet, wrong padding or
 * a wrong length is VT_ERR_INVALID. Hex and base64 go through libsodium's constant-time codecs so
 * they may carry key material.
 */
#ifndef VT_BASE_ENCODE_H
#define VT_BASE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define UUID_STR_LEN 36

struct vt_uuid {
	uint8_t b[16];
};

/* Lower-case hex of n bytes into out (size ≥ 2n+1). */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Exactly 2*outlen hex digits (either case) → outlen bytes. VT_ERR_INVALID otherwise. */
int hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen) VT_WUR;

/* Encoded size (with NUL) for n input bytes. */
size_t b64_encoded_size(size_t n);
size_t b64url_encoded_size(size_t n);
/* Standard base64 with padding / URL-safe without padding, NUL-terminated into out. */
void b64_encode(const uint8_t *in, size_t n, char *out, size_t outsize);
void b64url_encode(const uint8_t *in, size_t n, char *out, size_t outsize);
/* Strict decoders; *outlen receives the decoded length. VT_ERR_INVALID on any deviation. */
int b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax, size_t *outlen) VT_WUR;
int b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax, size_t *outlen) VT_WUR;

/* RFC 4648 base32, upper case, no padding. out must hold base32_encoded_size(n) bytes. */
size_t base32_encoded_size(size_t n);
void base32_encode(const uint8_t *in, size_t n, char *out);
/* Accepts either case, optional '=' padding, and ignores spaces (as authenticator apps show). */
int base32_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax, size_t *outlen) VT_WUR;

/*
 * Table-driven variants for PUBLIC data only (audit bundles: hashes, canonical rows, notes): much
 * faster than the constant-time ones above, which must be used for anything secret.
 * b64_decode_public: strict canonical padded base64 (len a multiple of 4, zero trailing bits),
 * writing at most b64_decoded_max(len) bytes; VT_ERR_INVALID otherwise. b64_encode_public writes
 * 4 * ceil(n / 3) characters, no NUL. hex_decode_lower: exactly 2 * n lower-case hex digits.
 */
size_t b64_decoded_max(size_t len);
int b64_decode_public(const char *s, size_t len, uint8_t *out, size_t *outlen) VT_WUR;
void b64_encode_public(const uint8_t *in, size_t n, char *out);
int hex_decode_lower(const char *s, uint8_t *out, size_t n) VT_WUR;

/* Random version-4 UUID. */
void uuid_random(struct vt_uuid *u);
/* Parses the canonical 8-4-4-4-12 form (either case). VT_ERR_INVALID otherwise. */
int uuid_parse(const char *s, struct vt_uuid *u) VT_WUR;
/* Canonical lower-case form into out[UUID_STR_LEN + 1]. */
void uuid_format(const struct vt_uuid *u, char out[static UUID_STR_LEN + 1]);
int uuid_is_nil(const struct vt_uuid *u);
/* Equality of two UUIDs (ids are not secret; constant time anyway). */
int uuid_eq(const struct vt_uuid *a, const struct vt_uuid *b);
/* Validates a UUID string without keeping it. */
int uuid_valid(const char *s);

#endif
