/*
 * Text encodings: API tokens, TOTP seeds, key material in configuration and ids in URL paths are
 * decoded by hex_decode, b64_decode, b64url_decode, base32_decode and uuid_parse. This harness
 * feeds the input to each decoder and checks, for every input a decoder accepts, that re-encoding
 * the output and decoding again gives the same bytes, and that the decoders are as strict as their
 * header says: the accepted text is the canonical encoding of its bytes (up to letter case for hex
 * and UUIDs, and up to case, spaces and '=' padding for base32). On failure the output must stay
 * wiped and the length zero.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/secmem.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FUZZ_CHECK(secmem_init() == 0);
	return 0;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static int
eq_nocase(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return 0;
	return 1;
}

static void
check_hex(const char *in, size_t n)
{
	size_t outlen = n / 2;
	uint8_t *out = xmalloc(outlen + 1), *again = xmalloc(outlen + 1);
	char *enc = xmalloc(2 * outlen + 1);

	if (hex_decode(in, n, out, outlen) == 0) {
		FUZZ_CHECK(n == 2 * outlen);
		hex_encode(out, outlen, enc);
		FUZZ_CHECK(strlen(enc) == n && eq_nocase(enc, in, n));
		FUZZ_CHECK(hex_decode(enc, n, again, outlen) == 0);
		FUZZ_CHECK(outlen == 0 || vt_ct_eq(out, again, outlen));
	} else {
		FUZZ_CHECK(n != 2 * outlen || all_zero(out, outlen));
	}
	free(out);
	free(again);
	free(enc);
}

typedef void (*b64_enc_fn)(const uint8_t *, size_t, char *, size_t);
typedef int (*b64_dec_fn)(const char *, size_t, uint8_t *, size_t, size_t *);
typedef size_t (*b64_size_fn)(size_t);

static void
check_b64(const char *in, size_t n, b64_enc_fn enc_fn, b64_dec_fn dec_fn, b64_size_fn size_fn)
{
	size_t outmax = n, outlen = 99, againlen = 99;
	uint8_t *out = xmalloc(outmax + 1), *again = xmalloc(outmax + 1);
	char *enc;

	if (dec_fn(in, n, out, outmax, &outlen) != 0) {
		FUZZ_CHECK(outlen == 0 && all_zero(out, outmax));
		goto out;
	}
	FUZZ_CHECK(outlen <= outmax);
	enc = xmalloc(size_fn(outlen));
	enc_fn(out, outlen, enc, size_fn(outlen));
	FUZZ_CHECK(strlen(enc) == n && vt_ct_eq(enc, in, n));
	FUZZ_CHECK(dec_fn(enc, strlen(enc), again, outmax, &againlen) == 0);
	FUZZ_CHECK(againlen == outlen && (outlen == 0 || vt_ct_eq(out, again, outlen)));
	free(enc);
	/* Too small an output buffer is an error, not an overflow. */
	if (outlen > 0)
		FUZZ_CHECK(dec_fn(in, n, again, outlen - 1, &againlen) != 0 && againlen == 0);
 out:
	free(out);
	free(again);
}

static void
check_base32(const char *in, size_t n)
{
	size_t outmax = n * 5 / 8 + 1, outlen = 99, againlen = 99, i, cn = 0;
	uint8_t *out = xmalloc(outmax), *again = xmalloc(outmax);
	char *canon = xmalloc(n + 1), *enc;

	if (base32_decode(in, n, out, outmax, &outlen) != 0) {
		FUZZ_CHECK(outlen == 0 && all_zero(out, outmax));
		goto out;
	}
	FUZZ_CHECK(outlen <= outmax);
	for (i = 0; i < n; i++)
		if (in[i] != ' ' && in[i] != '=')
			canon[cn++] = (char)toupper((unsigned char)in[i]);
	canon[cn] = '\0';
	enc = xmalloc(base32_encoded_size(outlen));
	base32_encode(out, outlen, enc);
	FUZZ_CHECK(strcmp(enc, canon) == 0);
	FUZZ_CHECK(base32_decode(enc, strlen(enc), again, outmax, &againlen) == 0);
	FUZZ_CHECK(againlen == outlen && (outlen == 0 || vt_ct_eq(out, again, outlen)));
	free(enc);
	if (outlen > 0) {
		FUZZ_CHECK(base32_decode(in, n, again, outlen - 1, &againlen) != 0);
		FUZZ_CHECK(againlen == 0);
	}
 out:
	free(out);
	free(again);
	free(canon);
}

static void
check_uuid(const char *s)
{
	struct vt_uuid u, again;
	char str[UUID_STR_LEN + 1];

	if (uuid_parse(s, &u) != 0) {
		FUZZ_CHECK(all_zero(u.b, sizeof(u.b)));
		FUZZ_CHECK(!uuid_valid(s));
		return;
	}
	FUZZ_CHECK(strlen(s) == UUID_STR_LEN && uuid_valid(s));
	uuid_format(&u, str);
	FUZZ_CHECK(eq_nocase(str, s, UUID_STR_LEN));
	FUZZ_CHECK(uuid_parse(str, &again) == 0 && uuid_eq(&u, &again));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size copy: decoders take (pointer, length), so no terminator is needed. */
	char *in = xmalloc(size == 0 ? 1 : size), *s;

	if (size > 0)
		memcpy(in, data, size);
	check_hex(in, size);
	check_b64(in, size, b64_encode, b64_decode, b64_encoded_size);
	check_b64(in, size, b64url_encode, b64url_decode, b64url_encoded_size);
	check_base32(in, size);
	free(in);

	s = fuzz_cstr(data, size);
	check_uuid(s);
	free(s);
	return 0;
}
