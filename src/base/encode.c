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

/* ---- fast variants for public data (no constant-time requirement) ------------------------ */

/* Base64 digit value + 1 (0: not a digit), RFC 4648 standard alphabet. */
static const uint8_t B64_DEC[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 63, 0, 0, 0, 64,
	53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 0, 0, 0, 0, 0, 0,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 0, 0, 0, 0, 0,
	0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 0, 0, 0, 0, 0,
	/* 0x80 .. 0xff: 0 */
};
static const char B64_ENC[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Lower-case hex digit value + 1 (0: not one). */
static const uint8_t HEX_DEC[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16,
};

/* Bytes that base64 text of len characters decodes to, before checking it (len % 4 == 0). */
size_t
b64_decoded_max(size_t len)
{
	return len / 4 * 3;
}

/*
 * Strict, canonical base64 with padding: a multiple of 4 characters, '=' only as the last one or
 * two, and zero bits after the last byte (so every byte string has exactly one encoding). Writes
 * at most b64_decoded_max(len) bytes to out. VT_ERR_INVALID otherwise.
 */
int
b64_decode_public(const char *s, size_t len, uint8_t *out, size_t *outlen)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i, o = 0, full;
	uint32_t a, b, c, d;

	*outlen = 0;
	if (len % 4 != 0)
		return VT_ERR_INVALID;
	/* Every quartet but the last has no padding. */
	full = len == 0 ? 0 : len - 4;
	for (i = 0; i < full; i += 4) {
		a = B64_DEC[p[i]];
		b = B64_DEC[p[i + 1]];
		c = B64_DEC[p[i + 2]];
		d = B64_DEC[p[i + 3]];
		if (a == 0 || b == 0 || c == 0 || d == 0)
			return VT_ERR_INVALID;
		a = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
		out[o++] = (uint8_t)(a >> 16);
		out[o++] = (uint8_t)(a >> 8);
		out[o++] = (uint8_t)a;
	}
	if (len > 0) {
		a = B64_DEC[p[i]];
		b = B64_DEC[p[i + 1]];
		if (a == 0 || b == 0)
			return VT_ERR_INVALID;
		a = (a - 1) << 18 | (b - 1) << 12;
		if (p[i + 2] == '=') {
			/* "xx==": one byte, the low 4 bits of the second digit zero. */
			if (p[i + 3] != '=' || (a & 0xffff) != 0)
				return VT_ERR_INVALID;
			out[o++] = (uint8_t)(a >> 16);
		} else {
			if ((c = B64_DEC[p[i + 2]]) == 0)
				return VT_ERR_INVALID;
			a |= (c - 1) << 6;
			if (p[i + 3] == '=') {
				/* "xxx=": two bytes, the low 2 bits of the third digit zero. */
				if ((a & 0xff) != 0)
					return VT_ERR_INVALID;
				out[o++] = (uint8_t)(a >> 16);
				out[o++] = (uint8_t)(a >> 8);
			} else {
				if ((d = B64_DEC[p[i + 3]]) == 0)
					return VT_ERR_INVALID;
				a |= d - 1;
				out[o++] = (uint8_t)(a >> 16);
				out[o++] = (uint8_t)(a >> 8);
				out[o++] = (uint8_t)a;
			}
		}
	}
	*outlen = o;
	return 0;
}

/* Standard padded base64 of in[0 .. n) into out (4 * ceil(n / 3) bytes, no NUL). */
void
b64_encode_public(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = B64_ENC[v >> 18];
		out[o++] = B64_ENC[(v >> 12) & 63];
		out[o++] = B64_ENC[(v >> 6) & 63];
		out[o++] = B64_ENC[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = B64_ENC[v >> 18];
		out[o++] = B64_ENC[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = B64_ENC[v >> 18];
		out[o++] = B64_ENC[(v >> 12) & 63];
		out[o++] = B64_ENC[(v >> 6) & 63];
		out[o++] = '=';
	}
}

/* Exactly 2 * n lower-case hex digits into out[0 .. n). VT_ERR_INVALID otherwise. */
int
hex_decode_lower(const char *s, uint8_t *out, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned hi = HEX_DEC[p[2 * i]], lo = HEX_DEC[p[2 * i + 1]];

		if (hi == 0 || lo == 0)
			return VT_ERR_INVALID;
		out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	return 0;
}
