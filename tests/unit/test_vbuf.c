/*
 * Unit tests for the bounded buffer (src/base/vbuf.h): the maximum is enforced to the byte
 * (reserve to max succeeds, max+1 fails with VT_ERR_TOO_LARGE and changes nothing), typed puts are
 * big-endian, every getter fails without consuming when bytes are short, length-prefixed strings
 * honour their max, read-only views refuse writes, vbuf_cstr refuses embedded NULs, and a random
 * sequence of typed puts reads back identically across reallocations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"

static int
setup_sodium(void **state)
{
	(void)state;
	return secmem_init();
}

static void
test_vbuf_new_is_empty(void **state)
{
	struct vbuf *b = vbuf_new(64);

	(void)state;
	assert_non_null(b);
	assert_int_equal(vbuf_len(b), 0);
	assert_int_equal(vbuf_max(b), 64);
	assert_non_null(vbuf_ptr(b));
	assert_int_equal(vbuf_expect_end(b), 0);
	vbuf_free(b);
	vbuf_free(NULL);
}

static void
test_vbuf_max_clamped_to_ceiling(void **state)
{
	struct vbuf *b = vbuf_new(SIZE_MAX);
	uint8_t *p = (uint8_t *)1;

	(void)state;
	assert_int_equal(vbuf_max(b), VBUF_MAX_ANY);
	/* One past the ceiling fails before any allocation is attempted. */
	assert_int_equal(vbuf_reserve(b, VBUF_MAX_ANY + 1, &p), VT_ERR_TOO_LARGE);
	assert_null(p);
	assert_int_equal(vbuf_reserve(b, SIZE_MAX, &p), VT_ERR_TOO_LARGE);
	assert_null(p);
	assert_int_equal(vbuf_len(b), 0);
	vbuf_free(b);

	b = vbuf_new(VBUF_MAX_ANY + 1);
	assert_int_equal(vbuf_max(b), VBUF_MAX_ANY);
	vbuf_free(b);
	b = vbuf_new(VBUF_MAX_ANY);
	assert_int_equal(vbuf_max(b), VBUF_MAX_ANY);
	vbuf_free(b);
}

static void
test_vbuf_reserve_to_max_exactly(void **state)
{
	struct vbuf *b = vbuf_new(300); /* past the first 256-byte growth step */
	uint8_t *p = NULL;

	(void)state;
	assert_int_equal(vbuf_reserve(b, 300, &p), 0);
	assert_non_null(p);
	memset(p, 0xa5, 300);
	assert_int_equal(vbuf_len(b), 300);
	/* max+1: one more byte fails, and the buffer is unchanged. */
	assert_int_equal(vbuf_reserve(b, 1, &p), VT_ERR_TOO_LARGE);
	assert_null(p);
	assert_int_equal(vbuf_put_u8(b, 1), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 300);
	assert_int_equal(vbuf_ptr(b)[299], 0xa5);
	/* A zero-byte reserve at max is fine. */
	assert_int_equal(vbuf_reserve(b, 0, &p), 0);
	assert_int_equal(vbuf_len(b), 300);
	vbuf_free(b);
}

static void
test_vbuf_reserve_max_plus_one_at_once(void **state)
{
	struct vbuf *b = vbuf_new(300);
	uint8_t *p = (uint8_t *)1;

	(void)state;
	assert_int_equal(vbuf_reserve(b, 301, &p), VT_ERR_TOO_LARGE);
	assert_null(p);
	assert_int_equal(vbuf_len(b), 0);
	assert_int_equal(vbuf_put(b, "x", 1), 0);
	/* len + n overflowing SIZE_MAX must not wrap into a small value. */
	assert_int_equal(vbuf_reserve(b, SIZE_MAX, &p), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_reserve(b, 300, &p), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_reserve(b, 299, &p), 0);
	assert_int_equal(vbuf_len(b), 300);
	vbuf_free(b);
}

static void
test_vbuf_max_zero(void **state)
{
	struct vbuf *b = vbuf_new(0);
	const char *s = NULL;

	(void)state;
	assert_int_equal(vbuf_put(b, NULL, 0), 0);
	assert_int_equal(vbuf_put_u8(b, 0), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	assert_int_equal(vbuf_cstr(b, &s), 0);
	assert_string_equal(s, "");
	vbuf_free(b);
}

static void
test_vbuf_put_get_big_endian(void **state)
{
	static const uint8_t want[] = { 0x7f, 0x01, 0x02, 0x03, 0x04, 0x01, 0x02, 0x03, 0x04, 0x05,
		0x06, 0x07, 0x08, 'h', 'i' };
	struct vbuf *b = vbuf_new(sizeof(want));
	uint8_t u8 = 0;
	uint32_t u32 = 0;
	uint64_t u64 = 0;
	uint8_t two[2];

	(void)state;
	assert_int_equal(vbuf_put_u8(b, 0x7f), 0);
	assert_int_equal(vbuf_put_u32(b, 0x01020304u), 0);
	assert_int_equal(vbuf_put_u64(b, 0x0102030405060708ull), 0);
	assert_int_equal(vbuf_put_cstr(b, "hi"), 0);
	assert_int_equal(vbuf_len(b), sizeof(want));
	assert_memory_equal(vbuf_ptr(b), want, sizeof(want));

	assert_int_equal(vbuf_get_u8(b, &u8), 0);
	assert_int_equal(u8, 0x7f);
	assert_int_equal(vbuf_get_u32(b, &u32), 0);
	assert_int_equal(u32, 0x01020304u);
	assert_int_equal(vbuf_get_u64(b, &u64), 0);
	assert_true(u64 == 0x0102030405060708ull);
	assert_int_equal(vbuf_expect_end(b), VT_ERR_INVALID);
	assert_int_equal(vbuf_get(b, two, 2), 0);
	assert_memory_equal(two, "hi", 2);
	assert_int_equal(vbuf_len(b), 0);
	assert_int_equal(vbuf_expect_end(b), 0);
	vbuf_free(b);
}

static void
test_vbuf_extreme_integers(void **state)
{
	struct vbuf *b = vbuf_new(64);
	uint32_t u32 = 1;
	uint64_t u64 = 1;

	(void)state;
	assert_int_equal(vbuf_put_u32(b, 0), 0);
	assert_int_equal(vbuf_put_u32(b, UINT32_MAX), 0);
	assert_int_equal(vbuf_put_u64(b, 0), 0);
	assert_int_equal(vbuf_put_u64(b, UINT64_MAX), 0);
	assert_int_equal(vbuf_get_u32(b, &u32), 0);
	assert_int_equal(u32, 0);
	assert_int_equal(vbuf_get_u32(b, &u32), 0);
	assert_int_equal(u32, UINT32_MAX);
	assert_int_equal(vbuf_get_u64(b, &u64), 0);
	assert_true(u64 == 0);
	assert_int_equal(vbuf_get_u64(b, &u64), 0);
	assert_true(u64 == UINT64_MAX);
	assert_int_equal(vbuf_expect_end(b), 0);
	vbuf_free(b);
}

static void
test_vbuf_get_past_end_consumes_nothing(void **state)
{
	static const uint8_t data[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct vbuf *b = vbuf_new(16);
	uint8_t out[8] = { 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	const uint8_t *p = (const uint8_t *)1;
	uint32_t u32 = 99;
	uint64_t u64 = 99;
	uint8_t u8 = 99;

	(void)state;
	assert_int_equal(vbuf_put(b, data, 3), 0);
	assert_int_equal(vbuf_get_u32(b, &u32), VT_ERR_INVALID);
	assert_int_equal(u32, 0);
	assert_int_equal(vbuf_len(b), 3);
	assert_int_equal(vbuf_get(b, out, 4), VT_ERR_INVALID);
	assert_int_equal(out[0], 0xee);
	assert_int_equal(vbuf_get_ptr(b, 4, &p), VT_ERR_INVALID);
	assert_null(p);
	assert_int_equal(vbuf_len(b), 3);
	assert_memory_equal(vbuf_ptr(b), data, 3);

	assert_int_equal(vbuf_put(b, data + 3, 4), 0);
	assert_int_equal(vbuf_get_u64(b, &u64), VT_ERR_INVALID);
	assert_true(u64 == 0);
	assert_int_equal(vbuf_len(b), 7);
	assert_memory_equal(vbuf_ptr(b), data, 7);
	assert_int_equal(vbuf_get(b, out, 7), 0);
	assert_memory_equal(out, data, 7);

	/* Empty: every getter fails, a zero-length get succeeds. */
	assert_int_equal(vbuf_get_u8(b, &u8), VT_ERR_INVALID);
	assert_int_equal(vbuf_get_u32(b, &u32), VT_ERR_INVALID);
	assert_int_equal(vbuf_get_u64(b, &u64), VT_ERR_INVALID);
	assert_int_equal(vbuf_get(b, out, 0), 0);
	assert_int_equal(vbuf_get_ptr(b, 0, &p), 0);
	assert_non_null(p);
	assert_int_equal(vbuf_expect_end(b), 0);
	vbuf_free(b);
}

static void
test_vbuf_get_ptr_borrows_in_place(void **state)
{
	struct vbuf *b = vbuf_new(16);
	const uint8_t *p = NULL;

	(void)state;
	assert_int_equal(vbuf_put_cstr(b, "abcdef"), 0);
	assert_int_equal(vbuf_get_ptr(b, 2, &p), 0);
	assert_memory_equal(p, "ab", 2);
	assert_int_equal(vbuf_len(b), 4);
	assert_ptr_equal(vbuf_ptr(b), p + 2);
	assert_int_equal(vbuf_get_ptr(b, 4, &p), 0);
	assert_memory_equal(p, "cdef", 4);
	assert_int_equal(vbuf_expect_end(b), 0);
	vbuf_free(b);
}

static void
test_vbuf_string_roundtrip_and_max(void **state)
{
	static const uint8_t want[] = { 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o' };
	struct vbuf *b = vbuf_new(64);
	const uint8_t *p = NULL;
	size_t n = 99;

	(void)state;
	assert_int_equal(vbuf_put_string(b, "hello", 5), 0);
	assert_int_equal(vbuf_len(b), sizeof(want));
	assert_memory_equal(vbuf_ptr(b), want, sizeof(want));

	/* Longer than max: refused and nothing consumed, not even the length prefix. */
	assert_int_equal(vbuf_get_string_ptr(b, 4, &p, &n), VT_ERR_INVALID);
	assert_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(vbuf_len(b), sizeof(want));

	/* Exactly max is accepted. */
	assert_int_equal(vbuf_get_string_ptr(b, 5, &p, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(vbuf_expect_end(b), 0);

	/* The empty string. */
	assert_int_equal(vbuf_put_string(b, "", 0), 0);
	assert_int_equal(vbuf_get_string_ptr(b, 0, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_non_null(p);
	assert_int_equal(vbuf_expect_end(b), 0);
	vbuf_free(b);
}

static void
test_vbuf_string_truncated(void **state)
{
	struct vbuf *b = vbuf_new(64);
	const uint8_t *p = NULL;
	size_t n = 99;

	(void)state;
	/* The prefix claims 10 bytes, only 3 follow. */
	assert_int_equal(vbuf_put_u32(b, 10), 0);
	assert_int_equal(vbuf_put(b, "abc", 3), 0);
	assert_int_equal(vbuf_get_string_ptr(b, SIZE_MAX, &p, &n), VT_ERR_INVALID);
	assert_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(vbuf_len(b), 7);
	vbuf_reset(b);

	/* A length of 2^32-1 with no data. */
	assert_int_equal(vbuf_put_u32(b, UINT32_MAX), 0);
	assert_int_equal(vbuf_get_string_ptr(b, SIZE_MAX, &p, &n), VT_ERR_INVALID);
	assert_int_equal(vbuf_len(b), 4);
	vbuf_reset(b);

	/* Fewer than four bytes: not even a length. */
	assert_int_equal(vbuf_put(b, "\0\0\0", 3), 0);
	assert_int_equal(vbuf_get_string_ptr(b, SIZE_MAX, &p, &n), VT_ERR_INVALID);
	assert_int_equal(vbuf_len(b), 3);
	vbuf_free(b);
}

static void
test_vbuf_put_string_too_large_is_atomic(void **state)
{
	struct vbuf *b = vbuf_new(8);
	static const uint8_t dummy[1];

	(void)state;
	/* Length not representable in the u32 prefix; the data is never read. */
	assert_int_equal(vbuf_put_string(b, dummy, (size_t)UINT32_MAX + 1), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	/* Prefix fits (4 of 8 bytes) but the data does not: nothing may be left behind. */
	assert_int_equal(vbuf_put_string(b, "hello", 5), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	/* Exactly max: 4 + 4. */
	assert_int_equal(vbuf_put_string(b, "abcd", 4), 0);
	assert_int_equal(vbuf_len(b), 8);
	vbuf_free(b);
}

static void
test_vbuf_put_u32_u64_at_max_boundary(void **state)
{
	struct vbuf *b = vbuf_new(11);

	(void)state;
	assert_int_equal(vbuf_put_u64(b, 1), 0);
	assert_int_equal(vbuf_put_u32(b, 1), VT_ERR_TOO_LARGE); /* 12 > 11 */
	assert_int_equal(vbuf_len(b), 8);
	assert_int_equal(vbuf_put_u64(b, 1), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 8);
	assert_int_equal(vbuf_put(b, "abc", 3), 0);
	assert_int_equal(vbuf_len(b), 11);
	vbuf_free(b);
}

static void
test_vbuf_expect_end(void **state)
{
	struct vbuf *b = vbuf_new(8);
	uint8_t u8;

	(void)state;
	assert_int_equal(vbuf_expect_end(b), 0);
	assert_int_equal(vbuf_put_u8(b, 1), 0);
	assert_int_equal(vbuf_put_u8(b, 2), 0);
	assert_int_equal(vbuf_get_u8(b, &u8), 0);
	assert_int_equal(u8, 1);
	/* One trailing byte is an error. */
	assert_int_equal(vbuf_expect_end(b), VT_ERR_INVALID);
	assert_int_equal(vbuf_get_u8(b, &u8), 0);
	assert_int_equal(u8, 2);
	assert_int_equal(vbuf_expect_end(b), 0);
	vbuf_free(b);
}

static void
test_vbuf_view_is_read_only(void **state)
{
	static const uint8_t data[] = { 0, 0, 0, 2, 'o', 'k', 0xff };
	struct vbuf *v = vbuf_view(data, sizeof(data));
	const uint8_t *p = NULL;
	const char *s = (const char *)1;
	uint8_t *w = (uint8_t *)1;
	uint8_t u8 = 0;
	size_t n = 0;

	(void)state;
	assert_int_equal(vbuf_len(v), sizeof(data));
	assert_int_equal(vbuf_max(v), sizeof(data));
	assert_ptr_equal(vbuf_ptr(v), data);

	assert_int_equal(vbuf_reserve(v, 0, &w), VT_ERR_INTERNAL);
	assert_null(w);
	assert_int_equal(vbuf_reserve(v, 1, &w), VT_ERR_INTERNAL);
	assert_int_equal(vbuf_put(v, "x", 1), VT_ERR_INTERNAL);
	assert_int_equal(vbuf_put_u8(v, 1), VT_ERR_INTERNAL);
	assert_int_equal(vbuf_put_u32(v, 1), VT_ERR_INTERNAL);
	assert_int_equal(vbuf_put_u64(v, 1), VT_ERR_INTERNAL);
	assert_int_equal(vbuf_put_string(v, "x", 1), VT_ERR_INTERNAL);
	assert_int_equal(vbuf_put_cstr(v, "x"), VT_ERR_INTERNAL);
	assert_int_equal(vbuf_cstr(v, &s), VT_ERR_INTERNAL);
	assert_null(s);
	assert_int_equal(vbuf_len(v), sizeof(data));

	/* Reads work and consume. */
	assert_int_equal(vbuf_get_string_ptr(v, 2, &p, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(p, "ok", 2);
	assert_int_equal(vbuf_expect_end(v), VT_ERR_INVALID);
	assert_int_equal(vbuf_get_u8(v, &u8), 0);
	assert_int_equal(u8, 0xff);
	assert_int_equal(vbuf_expect_end(v), 0);

	/* Reset of a view rewinds to the start and leaves the borrowed bytes alone. */
	vbuf_reset(v);
	assert_int_equal(vbuf_len(v), sizeof(data));
	assert_ptr_equal(vbuf_ptr(v), data);
	vbuf_free(v);
	assert_int_equal(data[4], 'o');

	v = vbuf_view(NULL, 0);
	assert_int_equal(vbuf_len(v), 0);
	assert_int_equal(vbuf_expect_end(v), 0);
	assert_int_equal(vbuf_get_u8(v, &u8), VT_ERR_INVALID);
	vbuf_free(v);
}

static void
test_vbuf_reset_keeps_max(void **state)
{
	struct vbuf *b = vbuf_new(4);

	(void)state;
	assert_int_equal(vbuf_put(b, "abcd", 4), 0);
	vbuf_reset(b);
	assert_int_equal(vbuf_len(b), 0);
	assert_int_equal(vbuf_max(b), 4);
	assert_int_equal(vbuf_put(b, "wxyz", 4), 0);
	assert_int_equal(vbuf_put_u8(b, 0), VT_ERR_TOO_LARGE);
	assert_memory_equal(vbuf_ptr(b), "wxyz", 4);
	vbuf_free(b);
}

static void
test_vbuf_cstr(void **state)
{
	struct vbuf *b = vbuf_new(3);
	const char *s = NULL;
	uint8_t u8;

	(void)state;
	assert_int_equal(vbuf_cstr(b, &s), 0);
	assert_string_equal(s, "");
	/* Filled to max: the terminator lives outside the logical length. */
	assert_int_equal(vbuf_put(b, "abc", 3), 0);
	assert_int_equal(vbuf_cstr(b, &s), 0);
	assert_string_equal(s, "abc");
	assert_int_equal(vbuf_len(b), 3);
	assert_int_equal(vbuf_max(b), 3);
	/* After a partial read it covers only the unread bytes. */
	assert_int_equal(vbuf_get_u8(b, &u8), 0);
	assert_int_equal(vbuf_cstr(b, &s), 0);
	assert_string_equal(s, "bc");
	assert_int_equal(vbuf_len(b), 2);
	vbuf_free(b);
}

static void
test_vbuf_cstr_rejects_embedded_nul(void **state)
{
	static const char *const bad[] = { "\0", "a\0b", "ab\0", "\0ab" };
	static const size_t badlen[] = { 1, 3, 3, 3 };
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++) {
		struct vbuf *b = vbuf_new(16);
		const char *s = (const char *)1;

		assert_int_equal(vbuf_put(b, bad[i], badlen[i]), 0);
		assert_int_equal(vbuf_cstr(b, &s), VT_ERR_INVALID);
		assert_null(s);
		assert_int_equal(vbuf_len(b), badlen[i]);
		vbuf_free(b);
	}
}

static void
test_vbuf_growth_preserves_contents(void **state)
{
	struct vbuf *b = vbuf_new(100000);
	uint8_t chunk[97];
	size_t i, total = 0;

	(void)state;
	for (i = 0; total + sizeof(chunk) <= 100000; i++) {
		memset(chunk, (int)(i & 0xff), sizeof(chunk));
		assert_int_equal(vbuf_put(b, chunk, sizeof(chunk)), 0);
		total += sizeof(chunk);
	}
	assert_int_equal(vbuf_len(b), total);
	for (i = 0; i < total; i++)
		assert_int_equal(vbuf_ptr(b)[i], (i / sizeof(chunk)) & 0xff);
	assert_int_equal(vbuf_put(b, chunk, 100000 - total), 0);
	assert_int_equal(vbuf_put_u8(b, 0), VT_ERR_TOO_LARGE);
	vbuf_free(b);
}

/* Random sequence of typed puts, then the same sequence of gets must read it back exactly. */
static void
test_vbuf_random_roundtrip(void **state)
{
	enum { OPS = 64, ROUNDS = 1000 };
	int round;

	(void)state;
	for (round = 0; round < ROUNDS; round++) {
		struct vbuf *b = vbuf_new(OPS * (4 + 40));
		uint8_t kind[OPS], blob[OPS][40];
		uint64_t val[OPS];
		size_t blen[OPS];
		int i;

		randombytes_buf(kind, sizeof(kind));
		randombytes_buf(val, sizeof(val));
		randombytes_buf(blob, sizeof(blob));
		for (i = 0; i < OPS; i++) {
			kind[i] %= 4;
			blen[i] = randombytes_uniform(41);
			switch (kind[i]) {
			case 0:
				assert_int_equal(vbuf_put_u8(b, (uint8_t)val[i]), 0);
				break;
			case 1:
				assert_int_equal(vbuf_put_u32(b, (uint32_t)val[i]), 0);
				break;
			case 2:
				assert_int_equal(vbuf_put_u64(b, val[i]), 0);
				break;
			default:
				assert_int_equal(vbuf_put_string(b, blob[i], blen[i]), 0);
				break;
			}
		}
		for (i = 0; i < OPS; i++) {
			const uint8_t *p;
			uint64_t u64;
			uint32_t u32;
			uint8_t u8;
			size_t n;

			switch (kind[i]) {
			case 0:
				assert_int_equal(vbuf_get_u8(b, &u8), 0);
				assert_int_equal(u8, (uint8_t)val[i]);
				break;
			case 1:
				assert_int_equal(vbuf_get_u32(b, &u32), 0);
				assert_int_equal(u32, (uint32_t)val[i]);
				break;
			case 2:
				assert_int_equal(vbuf_get_u64(b, &u64), 0);
				assert_true(u64 == val[i]);
				break;
			default:
				assert_int_equal(vbuf_get_string_ptr(b, 40, &p, &n), 0);
				assert_int_equal(n, blen[i]);
				if (n > 0)
					assert_memory_equal(p, blob[i], n);
				break;
			}
		}
		assert_int_equal(vbuf_expect_end(b), 0);
		vbuf_free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vbuf_new_is_empty),
		cmocka_unit_test(test_vbuf_max_clamped_to_ceiling),
		cmocka_unit_test(test_vbuf_reserve_to_max_exactly),
		cmocka_unit_test(test_vbuf_reserve_max_plus_one_at_once),
		cmocka_unit_test(test_vbuf_max_zero),
		cmocka_unit_test(test_vbuf_put_get_big_endian),
		cmocka_unit_test(test_vbuf_extreme_integers),
		cmocka_unit_test(test_vbuf_get_past_end_consumes_nothing),
		cmocka_unit_test(test_vbuf_get_ptr_borrows_in_place),
		cmocka_unit_test(test_vbuf_string_roundtrip_and_max),
		cmocka_unit_test(test_vbuf_string_truncated),
		cmocka_unit_test(test_vbuf_put_string_too_large_is_atomic),
		cmocka_unit_test(test_vbuf_put_u32_u64_at_max_boundary),
		cmocka_unit_test(test_vbuf_expect_end),
		cmocka_unit_test(test_vbuf_view_is_read_only),
		cmocka_unit_test(test_vbuf_reset_keeps_max),
		cmocka_unit_test(test_vbuf_cstr),
		cmocka_unit_test(test_vbuf_cstr_rejects_embedded_nul),
		cmocka_unit_test(test_vbuf_growth_preserves_contents),
		cmocka_unit_test(test_vbuf_random_roundtrip),
	};

	return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
