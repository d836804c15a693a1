/*
 * Encoders and strict decoders. Hex and base64 use libsodium (constant time with respect to the
 * data); base32 is only used for TOTP seeds shown to their owner and is implemented here per
 * RFC 4648 §6 because libsodium has no base32.
 */
#include "base/encode.h"

#include <string.h>

#include <sodium.h>

#include "base/err.h"

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

int
hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	size_t got = 0;
	const char *end = NULL;

	if (inlen != 2 * outlen)
		return VT_ERR_INVALID;
	if (sodium_hex2bin(out, outlen, in, inlen, NULL, &got, &end) != 0 || got != outlen ||
	    end != in + inlen) {
		sodium_memzero(out, outlen);
		return VT_ERR_INVALID;
	}
	return 0;
}

size_t
b64_encoded_size(size_t n)
{
	return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
}

size_t
b64url_encoded_size(size_t n)
{
	return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void
b64_encode(const uint8_t *in, size_t n, char *out, size_t outsize)
{
	VT_ASSERT(outsize >= b64_encoded_size(n));
	sodium_bin2base64(out, outsize, in, n, sodium_base64_VARIANT_ORIGINAL);
}

void
b64url_encode(const uint8_t *in, size_t n, char *out, size_t outsize)
{
	VT_ASSERT(outsize >= b64url_encoded_size(n));
	sodium_bin2base64(out, outsize, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int
b64_decode_variant(const char *in, size_t inlen, uint8_t *out, size_t outmax, size_t *outlen,
    int variant)
{
	const char *end = NULL;
	size_t got = 0, i;
	uint8_t high = 0;

	*outlen = 0;
	/*
	 * libsodium before 1.0.22 (Debian 12 ships 1.0.18) reads the input as signed char and
	 * decodes every byte >= 0x80 as some base64 digit, so many strings would decode to the same
	 * bytes (a malleable JWT signature). Refuse them first; OR-ing keeps this constant time.
	 */
	for (i = 0; i < inlen; i++)
		high |= (uint8_t)in[i];
	if ((high & 0x80) != 0 ||
	    sodium_base642bin(out, outmax, in, inlen, NULL, &got, &end, variant) != 0 ||
	    end != in + inlen) {
		sodium_memzero(out, outmax);
		return VT_ERR_INVALID;
	}
	*outlen = got;
	return 0;
}

int
b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax, size_t *outlen)
{
	return b64_decode_variant(in, inlen, out, outmax, outlen, sodium_base64_VARIANT_ORIGINAL);
}

int
b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax, size_t *outlen)
{
	return b64_decode_variant(in, inlen, out, outmax, outlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

size_t
base32_encoded_size(size_t n)
{
	return (n * 8 + 4) / 5 + 1;
}

void
base32_encode(const uint8_t *in, size_t n, char *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = B32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = B32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

int
base32_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax, size_t *outlen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, o = 0, nchars = 0, npad = 0;

	*outlen = 0;
	for (i = 0; i < inlen; i++) {
		char c = in[i];
		int v;

		if (c == ' ')
			continue;
		if (c == '=') {
			npad++;
			continue;
		}
		if (npad > 0)
			goto bad; /* data after padding */
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			goto bad;
		nchars++;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= outmax)
				goto bad;
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* Valid final groups leave 0-4 bits that must be zero; 1, 3 or 6 chars mod 8 are invalid. */
	switch (nchars % 8) {
	case 1:
	case 3:
	case 6:
		goto bad;
	default:
		break;
	}
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		goto bad;
	/* Padding is optional, but when present it must complete the last 8-character group. */
	if (npad > 0 && (npad >= 8 || (nchars + npad) % 8 != 0))
		goto bad;
	*outlen = o;
	sodium_memzero(&acc, sizeof(acc));
	return 0;
 bad:
	sodium_memzero(out, outmax);
	sodium_memzero(&acc, sizeof(acc));
	return VT_ERR_INVALID;
}

void
uuid_random(struct vt_uuid *u)
{
	randombytes_buf(u->b, sizeof(u->b));
	u->b[6] = (uint8_t)((u->b[6] & 0x0f) | 0x40);
	u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80);
}

int
uuid_parse(const char *s, struct vt_uuid *u)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	size_t g, pos = 0, o = 0;

	memset(u, 0, sizeof(*u));
	if (s == NULL || strlen(s) != UUID_STR_LEN)
		return VT_ERR_INVALID;
	for (g = 0; g < VT_NELEM(groups); g++) {
		if (g > 0) {
			if (s[pos] != '-')
				goto bad;
			pos++;
		}
		if (hex_decode(s + pos, (size_t)groups[g], u->b + o, (size_t)groups[g] / 2) != 0)
			goto bad;
		pos += (size_t)groups[g];
		o += (size_t)groups[g] / 2;
	}
	return 0;
 bad:
	memset(u, 0, sizeof(*u));
	return VT_ERR_INVALID;
}

void
uuid_format(const struct vt_uuid *u, char out[static UUID_STR_LEN + 1])
{
	char hex[33];

	hex_encode(u->b, 16, hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
}

int
uuid_is_nil(const struct vt_uuid *u)
{
	static const struct vt_uuid nil;

	return uuid_eq(u, &nil);
}

int
uuid_eq(const struct vt_uuid *a, const struct vt_uuid *b)
{
	return sodium_memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

int
uuid_valid(const char *s)
{
	struct vt_uuid u;

	return uuid_parse(s, &u) == 0;
}
