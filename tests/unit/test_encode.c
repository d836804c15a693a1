/*
 * Unit tests for the text encodings (src/base/encode.h): RFC 4648 §10 vectors for base16, base64,
 * base64url and base32; strict decoders that reject trailing junk, wrong or missing padding,
 * non-alphabet characters, embedded NULs, non-canonical trailing bits and short output buffers;
 * 1000 random buffers through every encode→decode pair; and UUID parsing (either case, exact
 * dashes and length), formatting, version-4 bits of random UUIDs and equality.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/secmem.h"

struct vector {
	const char *in;
	const char *hex;
	const char *b64;
	const char *b64url;
	const char *b32;     /* our encoder: no padding */
	const char *b32_pad; /* RFC 4648 §10 form */
};

/* RFC 4648 §10. base64url is the same alphabet here since none of these bytes reach 62/63. */
static const struct vector RFC4648[] = {
	{ "", "", "", "", "", "" },
	{ "f", "66", "Zg==", "Zg", "MY", "MY======" },
	{ "fo", "666f", "Zm8=", "Zm8", "MZXQ", "MZXQ====" },
	{ "foo", "666f6f", "Zm9v", "Zm9v", "MZXW6", "MZXW6===" },
	{ "foob", "666f6f62", "Zm9vYg==", "Zm9vYg", "MZXW6YQ", "MZXW6YQ=" },
	{ "fooba", "666f6f6261", "Zm9vYmE=", "Zm9vYmE", "MZXW6YTB", "MZXW6YTB" },
	{ "foobar", "666f6f626172", "Zm9vYmFy", "Zm9vYmFy", "MZXW6YTBOI", "MZXW6YTBOI======" },
};

static int
setup_sodium(void **state)
{
	(void)state;
	return secmem_init();
}

/* ---- hex ---- */

static void
test_hex_rfc4648_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(RFC4648); i++) {
		const struct vector *v = &RFC4648[i];
		size_t n = strlen(v->in);
		char enc[32];
		uint8_t dec[16];
		char upper[32];
		size_t j;

		hex_encode((const uint8_t *)v->in, n, enc);
		assert_string_equal(enc, v->hex);
		assert_int_equal(hex_decode(v->hex, strlen(v->hex), dec, n), 0);
		assert_memory_equal(dec, v->in, n);
		/* The RFC spells base16 in upper case; decoding accepts either. */
		for (j = 0; v->hex[j] != '\0'; j++)
			upper[j] = (char)(v->hex[j] >= 'a' ? v->hex[j] - 'a' + 'A' : v->hex[j]);
		upper[j] = '\0';
		assert_int_equal(hex_decode(upper, strlen(upper), dec, n), 0);
		assert_memory_equal(dec, v->in, n);
	}
}

static void
test_hex_all_bytes(void **state)
{
	uint8_t in[256], out[256];
	char enc[513];
	int i;

	(void)state;
	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	hex_encode(in, sizeof(in), enc);
	assert_int_equal(strlen(enc), 512);
	assert_memory_equal(enc, "000102", 6);
	assert_string_equal(enc + 500, "fafbfcfdfeff");
	assert_int_equal(hex_decode(enc, 512, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
}

static void
test_hex_decode_rejects(void **state)
{
	static const struct {
		const char *in;
		size_t inlen;
		size_t outlen;
	} bad[] = {
		{ "666", 3, 1 },     /* odd length */
		{ "666", 3, 2 },     /* short for outlen */
		{ "6666", 4, 1 },    /* trailing digits */
		{ "66", 2, 2 },      /* too few digits */
		{ "6g", 2, 1 },      /* non-hex */
		{ "g6", 2, 1 },
		{ "6 ", 2, 1 },      /* space */
		{ " 6", 2, 1 },
		{ "6\0", 2, 1 },     /* embedded NUL */
		{ "\0\0", 2, 1 },
		{ "0x66", 4, 2 },    /* prefix */
		{ "+6", 2, 1 },      /* sign */
		{ "-6", 2, 1 },
		{ "66:6f", 5, 2 },   /* separators */
		{ "\xc3\xa9", 2, 1 }, /* UTF-8 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++) {
		uint8_t out[4] = { 0xee, 0xee, 0xee, 0xee };

		assert_int_equal(hex_decode(bad[i].in, bad[i].inlen, out, bad[i].outlen),
		    VT_ERR_INVALID);
	}
}

static void
test_hex_decode_failure_wipes_output(void **state)
{
	uint8_t out[4] = { 0xee, 0xee, 0xee, 0xee };
	static const uint8_t zero[4];

	(void)state;
	/* Three valid bytes, then junk: the partial key must not survive. */
	assert_int_equal(hex_decode("aabbccZZ", 8, out, 4), VT_ERR_INVALID);
	assert_memory_equal(out, zero, 4);
	assert_int_equal(hex_decode("", 0, out, 0), 0);
}

/* ---- base64 / base64url ---- */

static void
test_b64_rfc4648_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(RFC4648); i++) {
		const struct vector *v = &RFC4648[i];
		size_t n = strlen(v->in), got = 99;
		char enc[32];
		uint8_t dec[16];

		assert_int_equal(b64_encoded_size(n), strlen(v->b64) + 1);
		b64_encode((const uint8_t *)v->in, n, enc, sizeof(enc));
		assert_string_equal(enc, v->b64);
		assert_int_equal(b64_decode(v->b64, strlen(v->b64), dec, sizeof(dec), &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(dec, v->in, n);

		assert_int_equal(b64url_encoded_size(n), strlen(v->b64url) + 1);
		b64url_encode((const uint8_t *)v->in, n, enc, sizeof(enc));
		assert_string_equal(enc, v->b64url);
		got = 99;
		assert_int_equal(
		    b64url_decode(v->b64url, strlen(v->b64url), dec, sizeof(dec), &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(dec, v->in, n);
	}
}

static void
test_b64_alphabets_differ(void **state)
{
	static const uint8_t in[] = { 0xfb, 0xff, 0xbf, 0xfb, 0xff };
	uint8_t dec[8];
	char enc[16];
	size_t got = 0;

	(void)state;
	b64_encode(in, sizeof(in), enc, sizeof(enc));
	assert_string_equal(enc, "+/+/+/8=");
	b64url_encode(in, sizeof(in), enc, sizeof(enc));
	assert_string_equal(enc, "-_-_-_8");
	assert_int_equal(b64url_decode("-_-_-_8", 7, dec, sizeof(dec), &got), 0);
	assert_int_equal(got, sizeof(in));
	assert_memory_equal(dec, in, sizeof(in));
	/* Each decoder refuses the other alphabet. */
	assert_int_equal(b64_decode("-_-_-_8=", 8, dec, sizeof(dec), &got), VT_ERR_INVALID);
	assert_int_equal(got, 0);
	assert_int_equal(b64url_decode("+/+/+/8", 7, dec, sizeof(dec), &got), VT_ERR_INVALID);
	assert_int_equal(got, 0);
}

static void
test_b64_decode_rejects(void **state)
{
	static const struct {
		const char *in;
		size_t len;
	} bad[] = {
		{ "Zg", 2 },        /* missing padding */
		{ "Zg=", 3 },       /* short padding */
		{ "Zg===", 5 },     /* extra padding */
		{ "Zm8", 3 },
		{ "Zm8==", 5 },
		{ "Zm9v=", 5 },     /* padding on a full group */
		{ "Zm9v====", 8 },
		{ "=", 1 },
		{ "====", 4 },
		{ "Zg==Zg==", 8 },  /* data after padding */
		{ "Zg==\n", 5 },    /* trailing junk */
		{ "Zm9vx", 5 },     /* dangling character */
		{ "Z", 1 },
		{ "Zm9v!", 5 },     /* non-alphabet */
		{ "Zm-v", 4 },      /* url alphabet */
		{ "Zm_v", 4 },
		{ "Zm9 v", 5 },     /* whitespace */
		{ " Zm9v", 5 },
		{ "Zm9v\r\n", 6 },
		{ "Zm9v\0", 5 },    /* embedded NUL */
		{ "Zm\0v", 4 },
		{ "Zh==", 4 },      /* non-canonical trailing bits ("f" is Zg==) */
		{ "Zm9=", 4 },      /* ("fo" is Zm8=) */
		{ "Zm9vYh==", 8 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++) {
		uint8_t out[16];
		size_t got = 99;

		assert_int_equal(b64_decode(bad[i].in, bad[i].len, out, sizeof(out), &got),
		    VT_ERR_INVALID);
		assert_int_equal(got, 0);
	}
}

static void
test_b64url_decode_rejects(void **state)
{
	static const struct {
		const char *in;
		size_t len;
	} bad[] = {
		{ "Zg==", 4 },     /* padding is not part of this variant */
		{ "Zg=", 3 },
		{ "Zm8=", 4 },
		{ "Z", 1 },        /* impossible length (1 mod 4) */
		{ "Zm9vY", 5 },
		{ "Zm9v+", 5 },    /* standard alphabet */
		{ "Zm9v/", 5 },
		{ "Zm9v.", 5 },    /* non-alphabet */
		{ "Zm9 v", 5 },
		{ "Zm9v\n", 5 },
		{ "Zm9v\0", 5 },   /* embedded NUL */
		{ "Zh", 2 },       /* non-canonical trailing bits */
		{ "Zm9", 3 },
		{ "eyJhbGciOiJIUzI1NiJ9.", 22 }, /* a JWT segment with its dot */
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++) {
		uint8_t out[32];
		size_t got = 99;

		assert_int_equal(b64url_decode(bad[i].in, bad[i].len, out, sizeof(out), &got),
		    VT_ERR_INVALID);
		assert_int_equal(got, 0);
	}
}

static void
test_b64_output_bound(void **state)
{
	uint8_t out[6];
	size_t got = 99;

	(void)state;
	/* "foobar" needs 6 bytes: 5 is refused, 6 is enough. */
	assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 5, &got), VT_ERR_INVALID);
	assert_int_equal(got, 0);
	assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 5, &got), VT_ERR_INVALID);
	assert_int_equal(got, 0);
	assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 6, &got), 0);
	assert_int_equal(got, 6);
	assert_memory_equal(out, "foobar", 6);
	/* Only the first inlen bytes are looked at. */
	assert_int_equal(b64_decode("Zm9vYmFy", 4, out, 6, &got), 0);
	assert_int_equal(got, 3);
	assert_memory_equal(out, "foo", 3);
}

/* ---- base32 ---- */

static void
test_base32_rfc4648_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(RFC4648); i++) {
		const struct vector *v = &RFC4648[i];
		size_t n = strlen(v->in), got = 99;
		char enc[32];
		uint8_t dec[16];

		assert_int_equal(base32_encoded_size(n), strlen(v->b32) + 1);
		base32_encode((const uint8_t *)v->in, n, enc);
		assert_string_equal(enc, v->b32);
		assert_int_equal(base32_decode(v->b32, strlen(v->b32), dec, sizeof(dec), &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(dec, v->in, n);
		got = 99;
		assert_int_equal(base32_decode(v->b32_pad, strlen(v->b32_pad), dec, sizeof(dec),
		    &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(dec, v->in, n);
	}
}

static void
test_base32_lenient_forms(void **state)
{
	uint8_t dec[16];
	size_t got = 0;

	(void)state;
	/* Lower case and the grouped form authenticator apps display. */
	assert_int_equal(base32_decode("mzxw6ytboi", 10, dec, sizeof(dec), &got), 0);
	assert_int_equal(got, 6);
	assert_memory_equal(dec, "foobar", 6);
	assert_int_equal(base32_decode("MZXW 6YTB OI", 12, dec, sizeof(dec), &got), 0);
	assert_int_equal(got, 6);
	assert_memory_equal(dec, "foobar", 6);
	assert_int_equal(base32_decode("mZxW6yTbOi======", 16, dec, sizeof(dec), &got), 0);
	assert_int_equal(got, 6);
	/* RFC 6238 seed "12345678901234567890". */
	assert_int_equal(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 32, dec, sizeof(dec),
	    &got), VT_ERR_INVALID); /* 20 bytes do not fit in 16 */
	{
		uint8_t seed[20];

		assert_int_equal(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 32, seed,
		    sizeof(seed), &got), 0);
		assert_int_equal(got, 20);
		assert_memory_equal(seed, "12345678901234567890", 20);
	}
}

static void
test_base32_decode_rejects(void **state)
{
	static const struct {
		const char *in;
		size_t len;
	} bad[] = {
		{ "M", 1 },              /* 1, 3 and 6 characters mod 8 are impossible */
		{ "MZX", 3 },
		{ "MZXW6Y", 6 },
		{ "MZXW6YTBO", 9 },
		{ "MZ", 2 },             /* non-canonical trailing bits ("f" is MY) */
		{ "MZXR", 4 },
		{ "MZXW6YR", 7 },
		{ "MY0", 3 },            /* outside the alphabet */
		{ "MY1=====", 8 },
		{ "MY8", 3 },
		{ "MY9", 3 },
		{ "MY!", 3 },
		{ "MY-", 3 },
		{ "MY\n", 3 },
		{ "MY\t", 3 },
		{ "MY\0", 3 },           /* embedded NUL */
		{ "M\0Y", 3 },
		{ "MY======MY", 10 },   /* data after padding */
		{ "MY=Y", 4 },
		{ "MY=", 3 },            /* wrong amount of padding */
		{ "MY=====", 7 },
		{ "MY=======", 9 },
		{ "MZXQ===", 7 },
		{ "MZXQ=====", 9 },
		{ "MZXW6YTB========", 16 }, /* a full group needs none */
		{ "=", 1 },
		{ "========", 8 },
		{ "\xc3\x89", 2 },       /* UTF-8 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++) {
		uint8_t out[16];
		size_t got = 99;

		assert_int_equal(base32_decode(bad[i].in, bad[i].len, out, sizeof(out), &got),
		    VT_ERR_INVALID);
		assert_int_equal(got, 0);
	}
}

static void
test_base32_output_bound(void **state)
{
	uint8_t out[6] = { 0 };
	static const uint8_t zero[6];
	size_t got = 99;

	(void)state;
	assert_int_equal(base32_decode("MZXW6YTBOI", 10, out, 5, &got), VT_ERR_INVALID);
	assert_int_equal(got, 0);
	assert_memory_equal(out, zero, 5); /* partial output wiped */
	assert_int_equal(base32_decode("MZXW6YTBOI", 10, out, 6, &got), 0);
	assert_int_equal(got, 6);
	assert_int_equal(base32_decode("", 0, out, 0, &got), 0);
	assert_int_equal(got, 0);
}

/* ---- randomized round trips ---- */

static void
test_codecs_random_roundtrip(void **state)
{
	enum { ROUNDS = 1000, MAXLEN = 200 };
	int round;

	(void)state;
	for (round = 0; round < ROUNDS; round++) {
		uint8_t in[MAXLEN], out[MAXLEN];
		char enc[2 * MAXLEN + 8];
		size_t n = randombytes_uniform(MAXLEN + 1), got, elen;

		randombytes_buf(in, n);

		hex_encode(in, n, enc);
		assert_int_equal(strlen(enc), 2 * n);
		assert_int_equal(hex_decode(enc, 2 * n, out, n), 0);
		assert_memory_equal(in, out, n);

		b64_encode(in, n, enc, sizeof(enc));
		assert_int_equal(strlen(enc) + 1, b64_encoded_size(n));
		assert_int_equal(strlen(enc) % 4, 0);
		got = 0;
		assert_int_equal(b64_decode(enc, strlen(enc), out, n, &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(in, out, n);

		b64url_encode(in, n, enc, sizeof(enc));
		assert_int_equal(strlen(enc) + 1, b64url_encoded_size(n));
		assert_null(strpbrk(enc, "+/="));
		got = 0;
		assert_int_equal(b64url_decode(enc, strlen(enc), out, n, &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(in, out, n);

		base32_encode(in, n, enc);
		assert_int_equal(strlen(enc) + 1, base32_encoded_size(n));
		got = 0;
		assert_int_equal(base32_decode(enc, strlen(enc), out, n, &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(in, out, n);
		/* Padded to a multiple of 8 it decodes the same. */
		elen = strlen(enc);
		while (elen % 8 != 0)
			enc[elen++] = '=';
		enc[elen] = '\0';
		got = 0;
		assert_int_equal(base32_decode(enc, elen, out, n, &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(in, out, n);
	}
}

/* ---- UUIDs ---- */

static void
test_uuid_parse_format(void **state)
{
	static const uint8_t want[16] = { 0xf8, 0x1d, 0x4f, 0xae, 0x7d, 0xec, 0x11, 0xd0, 0xa7,
		0x65, 0x00, 0xa0, 0xc9, 0x1e, 0x6b, 0xf6 };
	struct vt_uuid u, w;
	char s[UUID_STR_LEN + 1];

	(void)state;
	/* The example UUID of RFC 4122 §3. */
	assert_int_equal(uuid_parse("f81d4fae-7dec-11d0-a765-00a0c91e6bf6", &u), 0);
	assert_memory_equal(u.b, want, 16);
	assert_int_equal(uuid_parse("F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6", &w), 0);
	assert_true(uuid_eq(&u, &w));
	assert_int_equal(uuid_parse("F81d4FaE-7dEc-11D0-a765-00A0c91e6Bf6", &w), 0);
	assert_true(uuid_eq(&u, &w));
	uuid_format(&w, s);
	assert_string_equal(s, "f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
	assert_true(uuid_valid("00000000-0000-0000-0000-000000000000"));
	assert_true(uuid_valid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
}

static void
test_uuid_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"f81d4fae-7dec-11d0-a765-00a0c91e6bf",    /* 35 */
		"f81d4fae-7dec-11d0-a765-00a0c91e6bf6a",  /* 37 */
		"f81d4fae-7dec-11d0-a765-00a0c91e6bf6 ",
		" f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
		"f81d4fae7dec11d0a76500a0c91e6bf6",       /* no dashes */
		"f81d4fae7-dec-11d0-a765-00a0c91e6bf6",   /* dash moved */
		"f81d4fa-e7dec-11d0-a765-00a0c91e6bf6",
		"f81d4fae-7dec-11d0a-765-00a0c91e6bf6",
		"f81d4fae-7dec-11d0-a76500a0-c91e6bf6",
		"f81d4fae_7dec_11d0_a765_00a0c91e6bf6",   /* wrong separator */
		"f81d4fae-7dec-11d0-a765:00a0c91e6bf6",
		"f81d4fae--dec-11d0-a765-00a0c91e6bf6",
		"{81d4fae-7dec-11d0-a765-00a0c91e6bf}",
		"g81d4fae-7dec-11d0-a765-00a0c91e6bf6",   /* non-hex */
		"f81d4fae-7dec-11d0-a765-00a0c91e6bfz",
		"+81d4fae-7dec-11d0-a765-00a0c91e6bf6",
		"f81d4fae-7dec-11d0-a765-00a0c91e6b\xc3\xa9",
		"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
	};
	struct vt_uuid u;
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++) {
		memset(&u, 0xee, sizeof(u));
		assert_int_equal(uuid_parse(bad[i], &u), VT_ERR_INVALID);
		assert_true(uuid_is_nil(&u));
		assert_false(uuid_valid(bad[i]));
	}
	assert_int_equal(uuid_parse(NULL, &u), VT_ERR_INVALID);
	assert_false(uuid_valid(NULL));
	/* An embedded NUL shortens the string. */
	assert_int_equal(uuid_parse("f81d4fae-7dec-11d0-a765-00a0c91e6bf\0" "6", &u),
	    VT_ERR_INVALID);
}

static void
test_uuid_random_is_v4(void **state)
{
	struct vt_uuid prev, u, back;
	char s[UUID_STR_LEN + 1];
	int i, ones = 0;

	(void)state;
	memset(&prev, 0, sizeof(prev));
	for (i = 0; i < 1000; i++) {
		uuid_random(&u);
		assert_int_equal(u.b[6] >> 4, 4);          /* version 4 */
		assert_int_equal(u.b[8] & 0xc0, 0x80);     /* RFC 4122 variant */
		assert_false(uuid_is_nil(&u));
		assert_false(uuid_eq(&u, &prev));
		uuid_format(&u, s);
		assert_int_equal(strlen(s), UUID_STR_LEN);
		assert_int_equal(s[14], '4');
		assert_non_null(strchr("89ab", s[19]));
		assert_int_equal(uuid_parse(s, &back), 0);
		assert_true(uuid_eq(&u, &back));
		ones += u.b[0] & 1;
		prev = u;
	}
	/* The random bits are not stuck: 1000 fair coin flips land well inside (350, 650). */
	assert_in_range(ones, 350, 650);
}

static void
test_uuid_eq_and_nil(void **state)
{
	struct vt_uuid a, b, nil;

	(void)state;
	memset(&nil, 0, sizeof(nil));
	assert_true(uuid_is_nil(&nil));
	assert_int_equal(uuid_parse("f81d4fae-7dec-11d0-a765-00a0c91e6bf6", &a), 0);
	b = a;
	assert_true(uuid_eq(&a, &b));
	b.b[15] ^= 1;
	assert_false(uuid_eq(&a, &b));
	b = a;
	b.b[0] ^= 0x80;
	assert_false(uuid_eq(&a, &b));
	assert_false(uuid_is_nil(&a));
	b = nil;
	b.b[7] = 1;
	assert_false(uuid_is_nil(&b));
}

/* The fast public-data variants agree with the constant-time codecs and stay strict. */
static void
test_public_variants(void **state)
{
	uint8_t in[64], out[64], back[64];
	char ct[128], pub[128];
	size_t n, len, i;

	(void)state;
	for (n = 0; n <= sizeof(in); n++) {
		randombytes_buf(in, n);
		b64_encode(in, n, ct, sizeof(ct));
		b64_encode_public(in, n, pub);
		assert_int_equal(strlen(ct), b64_encoded_size(n) - 1);
		assert_memory_equal(ct, pub, strlen(ct));
		assert_true(b64_decoded_max(strlen(ct)) >= n);
		assert_int_equal(b64_decode_public(ct, strlen(ct), back, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(back, in, n);
		hex_encode(in, n, ct);
		assert_int_equal(hex_decode_lower(ct, out, n), 0);
		assert_memory_equal(out, in, n);
	}
	/* Not a multiple of 4, misplaced '=', non-zero trailing bits, another alphabet. */
	static const char *const bad[] = { "QQ", "QQ=A", "Q===", "QR==", "QQ-_", "QQ==QQ==" };
	for (i = 0; i < VT_NELEM(bad); i++)
		assert_int_equal(b64_decode_public(bad[i], strlen(bad[i]), back, &len),
		    VT_ERR_INVALID);
	assert_int_equal(hex_decode_lower("AB", out, 1), VT_ERR_INVALID);
	assert_int_equal(hex_decode_lower("0g", out, 1), VT_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_rfc4648_vectors),
		cmocka_unit_test(test_hex_all_bytes),
		cmocka_unit_test(test_hex_decode_rejects),
		cmocka_unit_test(test_hex_decode_failure_wipes_output),
		cmocka_unit_test(test_b64_rfc4648_vectors),
		cmocka_unit_test(test_b64_alphabets_differ),
		cmocka_unit_test(test_b64_decode_rejects),
		cmocka_unit_test(test_b64url_decode_rejects),
		cmocka_unit_test(test_b64_output_bound),
		cmocka_unit_test(test_base32_rfc4648_vectors),
		cmocka_unit_test(test_base32_lenient_forms),
		cmocka_unit_test(test_base32_decode_rejects),
		cmocka_unit_test(test_base32_output_bound),
		cmocka_unit_test(test_codecs_random_roundtrip),
		cmocka_unit_test(test_uuid_parse_format),
		cmocka_unit_test(test_uuid_parse_rejects),
		cmocka_unit_test(test_uuid_random_is_v4),
		cmocka_unit_test(test_uuid_eq_and_nil),
		cmocka_unit_test(test_public_variants),
	};

	return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
