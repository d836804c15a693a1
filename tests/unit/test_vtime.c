/*
 * Unit tests for time helpers (src/base/vtime.h): the RFC 3339 §5.8 examples, the epoch and the
 * microsecond format, leap years (2024-02-29 and 2000-02-29 accepted, 2023-02-29 and 1900-02-29
 * refused), numeric offsets (+02:00, -05:30), fractional seconds, strict rejection of malformed
 * strings, the four-digit-year clamp for out-of-range values (including INT64_MIN/INT64_MAX), and
 * format→parse round trips over random instants and random offsets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/err.h"
#include "base/secmem.h"
#include "base/vtime.h"

#define US 1000000LL
#define MIN_US (-62167219200LL * US)      /* 0000-01-01T00:00:00Z */
#define MAX_US (253402300799LL * US + 999999) /* 9999-12-31T23:59:59.999999Z */

static int
setup_sodium(void **state)
{
	(void)state;
	return secmem_init();
}

static void
expect_parse(const char *s, int64_t want)
{
	int64_t us = 42;

	if (vtime_parse_rfc3339(s, &us) != 0)
		fail_msg("vtime_parse_rfc3339 refused \"%s\"", s);
	if (us != want)
		fail_msg("\"%s\": got %lld, want %lld", s, (long long)us, (long long)want);
}

static void
expect_format(int64_t us, const char *want)
{
	char out[VTIME_RFC3339_LEN];

	memset(out, 'x', sizeof(out));
	vtime_format_rfc3339(us, out);
	assert_string_equal(out, want);
}

static void
test_rfc3339_section_5_8_examples(void **state)
{
	(void)state;
	expect_parse("1985-04-12T23:20:50.52Z", 482196050520000LL);
	expect_parse("1996-12-19T16:39:57-08:00", 851042397LL * US);
	/* Leap seconds are clamped to :59 of the same minute. */
	expect_parse("1990-12-31T23:59:60Z", 662687999LL * US);
	expect_parse("1990-12-31T15:59:60-08:00", 662687999LL * US);
	expect_parse("1937-01-01T12:00:27.87+00:20", -1041337172130000LL);
}

static void
test_format_known_instants(void **state)
{
	(void)state;
	expect_format(0, "1970-01-01T00:00:00.000000Z");
	expect_format(1, "1970-01-01T00:00:00.000001Z");
	expect_format(-1, "1969-12-31T23:59:59.999999Z");
	expect_format(-US, "1969-12-31T23:59:59.000000Z");
	expect_format(-US - 1, "1969-12-31T23:59:58.999999Z");
	expect_format(482196050520000LL, "1985-04-12T23:20:50.520000Z");
	expect_format(1709164800LL * US, "2024-02-29T00:00:00.000000Z");
	expect_format(951782400LL * US - 1, "2000-02-28T23:59:59.999999Z");
	expect_format(-1041337172130000LL, "1937-01-01T11:40:27.870000Z");
	expect_format(MIN_US, "0000-01-01T00:00:00.000000Z");
	expect_format(MAX_US, "9999-12-31T23:59:59.999999Z");
}

static void
test_format_clamps_out_of_range(void **state)
{
	(void)state;
	expect_format(MIN_US - 1, "0000-01-01T00:00:00.000000Z");
	expect_format(MAX_US + 1, "9999-12-31T23:59:59.999999Z");
	/* The extremes must neither overflow nor emit a five-digit or negative year. */
	expect_format(INT64_MIN, "0000-01-01T00:00:00.000000Z");
	expect_format(INT64_MIN + 1, "0000-01-01T00:00:00.000000Z");
	expect_format(INT64_MAX, "9999-12-31T23:59:59.999999Z");
}

static void
test_parse_date_only_and_epoch(void **state)
{
	(void)state;
	expect_parse("1970-01-01", 0);
	expect_parse("1970-01-01T00:00:00Z", 0);
	expect_parse("1970-01-01t00:00:00z", 0);
	expect_parse("1970-01-01T00:00:00+00:00", 0);
	expect_parse("1970-01-01T00:00:00-00:00", 0);
	expect_parse("1969-12-31T23:59:59.999999Z", -1);
	expect_parse("0000-01-01", MIN_US);
	expect_parse("9999-12-31T23:59:59.999999Z", MAX_US);
	expect_parse("2024-02-29", 1709164800LL * US);
}

static void
test_parse_leap_years(void **state)
{
	int64_t us;

	(void)state;
	expect_parse("2024-02-29T12:00:00Z", (1709164800LL + 43200) * US);
	expect_parse("2000-02-29", 951782400LL * US); /* divisible by 400 */
	expect_parse("1996-02-29", 825552000LL * US);
	us = 42;
	assert_int_equal(vtime_parse_rfc3339("2023-02-29", &us), VT_ERR_INVALID);
	assert_true(us == 0);
	assert_int_equal(vtime_parse_rfc3339("2023-02-29T00:00:00Z", &us), VT_ERR_INVALID);
	assert_int_equal(vtime_parse_rfc3339("1900-02-29", &us), VT_ERR_INVALID); /* century */
	assert_int_equal(vtime_parse_rfc3339("2100-02-29", &us), VT_ERR_INVALID);
	assert_int_equal(vtime_parse_rfc3339("2024-02-30", &us), VT_ERR_INVALID);
	expect_parse("2023-02-28", 1677542400LL * US);
}

static void
test_parse_offsets(void **state)
{
	(void)state;
	expect_parse("2024-06-01T12:00:00+02:00", 1717236000LL * US);
	expect_parse("2024-06-01T12:00:00-05:30", 1717263000LL * US);
	expect_parse("2024-06-01T10:00:00Z", 1717236000LL * US);
	/* Offsets that cross a day and a year boundary. */
	expect_parse("2024-01-01T00:30:00+01:00", (1704067200LL - 1800) * US);
	expect_parse("2023-12-31T23:30:00-01:00", (1704067200LL + 1800) * US);
	expect_parse("2024-06-01T12:00:00+23:59", (1717243200LL - 86340) * US);
}

static void
test_parse_fractions(void **state)
{
	(void)state;
	expect_parse("2024-06-01T12:00:00.5Z", 1717243200LL * US + 500000);
	expect_parse("2024-06-01T12:00:00.05Z", 1717243200LL * US + 50000);
	expect_parse("2024-06-01T12:00:00.123456Z", 1717243200LL * US + 123456);
	expect_parse("2024-06-01T12:00:00.000001Z", 1717243200LL * US + 1);
	expect_parse("2024-06-01T12:00:00.999999Z", 1717243200LL * US + 999999);
	/* Digits beyond microseconds are truncated, not rounded. */
	expect_parse("2024-06-01T12:00:00.1234567Z", 1717243200LL * US + 123456);
	expect_parse("2024-06-01T12:00:00.9999999999Z", 1717243200LL * US + 999999);
	expect_parse("2024-06-01T12:00:00.25+02:00", 1717236000LL * US + 250000);
}

static void
test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"2024",
		"2024-06",
		"2024-6-01",
		"2024-06-1",
		"24-06-01",
		"2024/06/01",
		"2024-06-01x",
		"2024-06-01 ",
		" 2024-06-01",
		"+2024-06-01",
		"-2024-06-01",
		"20240601",
		"2024-00-10",
		"2024-13-01",
		"2024-01-00",
		"2024-01-32",
		"2024-04-31",
		"2024-06-31",
		"2024-06-01T",
		"2024-06-01T12:00Z",
		"2024-06-01T12:00:00",     /* no zone */
		"2024-06-01 12:00:00Z",    /* space separator */
		"2024-06-01X12:00:00Z",
		"2024-06-01T24:00:00Z",
		"2024-06-01T23:60:00Z",
		"2024-06-01T23:59:61Z",
		"2024-06-01T1:00:00Z",
		"2024-06-01T12:0:00Z",
		"2024-06-01T12-00-00Z",
		"2024-06-01T12:00:00.Z",   /* dot without digits */
		"2024-06-01T12:00:00.",
		"2024-06-01T12:00:00,5Z",
		"2024-06-01T12:00:00.5",
		"2024-06-01T12:00:00ZZ",
		"2024-06-01T12:00:00Zjunk",
		"2024-06-01T12:00:00 Z",
		"2024-06-01T12:00:00+0200",
		"2024-06-01T12:00:00+02",
		"2024-06-01T12:00:00+2:00",
		"2024-06-01T12:00:00+02:00x",
		"2024-06-01T12:00:00+02:00Z",
		"2024-06-01T12:00:00+24:00",
		"2024-06-01T12:00:00+02:60",
		"2024-06-01T12:00:00*02:00",
		"2024-06-01T12:00:00UTC",
		"2024-06-01T12:00:00.5.5Z",
		"2024-06-01T12:00:00\0Z",
		"abcd-ef-ghTij:kl:mnZ",
		"2024-06-01T12:00:00\xc2\xa0Z",
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++) {
		int64_t us = 42;

		if (vtime_parse_rfc3339(bad[i], &us) != VT_ERR_INVALID)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(us == 0);
	}
	{
		int64_t us = 42;

		assert_int_equal(vtime_parse_rfc3339(NULL, &us), VT_ERR_INVALID);
		assert_true(us == 0);
	}
}

static int64_t
random_us(int64_t lo, int64_t hi)
{
	uint64_t r;

	randombytes_buf(&r, sizeof(r));
	return lo + (int64_t)(r % (uint64_t)(hi - lo + 1));
}

static void
test_roundtrip_random(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		/* Half the draws near the present, where real data lives. */
		int64_t us = i % 2 ? random_us(MIN_US, MAX_US) : random_us(0, 4102444800LL * US);
		char out[VTIME_RFC3339_LEN];
		int64_t back = 0;

		vtime_format_rfc3339(us, out);
		assert_int_equal(strlen(out), 27);
		assert_int_equal(out[10], 'T');
		assert_int_equal(out[26], 'Z');
		assert_int_equal(vtime_parse_rfc3339(out, &back), 0);
		if (back != us)
			fail_msg("%s: got %lld, want %lld", out, (long long)back, (long long)us);
	}
}

static void
test_roundtrip_random_offsets(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		int64_t us = random_us(MIN_US + 86400 * US, MAX_US - 86400 * US);
		int oh = (int)randombytes_uniform(24), om = (int)randombytes_uniform(60);
		int sign = randombytes_uniform(2) ? 1 : -1;
		int64_t off = sign * ((int64_t)oh * 3600 + om * 60) * US;
		char local[VTIME_RFC3339_LEN], s[48];
		int64_t back = 0;

		/* The wall clock at that offset, written with the offset instead of Z. */
		vtime_format_rfc3339(us + off, local);
		local[26] = '\0';
		snprintf(s, sizeof(s), "%s%c%02d:%02d", local, sign > 0 ? '+' : '-', oh, om);
		assert_int_equal(vtime_parse_rfc3339(s, &back), 0);
		if (back != us)
			fail_msg("%s: got %lld, want %lld", s, (long long)back, (long long)us);
	}
}

static void
test_every_day_of_four_centuries(void **state)
{
	int64_t day;

	(void)state;
	/* 1900..2299 covers all three century rules; each day must survive format→parse. */
	for (day = -25567; day < -25567 + 146097; day++) {
		char out[VTIME_RFC3339_LEN], date[11];
		int64_t back = 0;

		vtime_format_rfc3339(day * 86400 * US, out);
		memcpy(date, out, 10);
		date[10] = '\0';
		assert_int_equal(vtime_parse_rfc3339(date, &back), 0);
		assert_true(back == day * 86400 * US);
	}
}

static void
test_clocks(void **state)
{
	int64_t now = vtime_now_us();
	uint64_t m1, m2;

	(void)state;
	/* After 2024-01-01 and before 2100-01-01. */
	assert_true(now > 1704067200LL * US);
	assert_true(now < 4102444800LL * US);
	m1 = vtime_mono_ms();
	m2 = vtime_mono_ms();
	assert_true(m2 >= m1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_section_5_8_examples),
		cmocka_unit_test(test_format_known_instants),
		cmocka_unit_test(test_format_clamps_out_of_range),
		cmocka_unit_test(test_parse_date_only_and_epoch),
		cmocka_unit_test(test_parse_leap_years),
		cmocka_unit_test(test_parse_offsets),
		cmocka_unit_test(test_parse_fractions),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_roundtrip_random_offsets),
		cmocka_unit_test(test_every_day_of_four_centuries),
		cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
