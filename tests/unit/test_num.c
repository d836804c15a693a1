/*
 * Unit tests for bounded number parsing (src/base/num.h): decimal digits only (no signs, spaces,
 * prefixes or exponents), exact [min, max] boundaries, overflow detected at 2^64, durations with
 * each unit ("500ms", "15m", "12h", "30d", bare seconds) and their overflow, booleans, and the
 * VT_ERR_RANGE / VT_ERR_INVALID split with a cleared out-parameter on every failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/num.h"

static const char *const NOT_DIGITS[] = {
	"", "+1", "-1", "-0", " 1", "1 ", "\t1", "1\n", "0x10", "0X10", "1e3", "1.0", "1,000",
	"1_000", "one", "\xef\xbc\x91" /* fullwidth 1 */, "1\xc2\xa0", "--1", "1-", "0b1",
};

static void
test_u64_happy_and_limits(void **state)
{
	uint64_t v = 99;

	(void)state;
	assert_int_equal(num_parse_u64("0", 0, UINT64_MAX, &v), 0);
	assert_true(v == 0);
	assert_int_equal(num_parse_u64("1", 0, UINT64_MAX, &v), 0);
	assert_true(v == 1);
	assert_int_equal(num_parse_u64("4000", 0, UINT64_MAX, &v), 0);
	assert_true(v == 4000);
	assert_int_equal(num_parse_u64("007", 0, UINT64_MAX, &v), 0);
	assert_true(v == 7);
	assert_int_equal(num_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(num_parse_u64("18446744073709551609", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX - 6);
	/* Twenty digits with leading zeros are still a number. */
	assert_int_equal(num_parse_u64("00000000000000000042", 0, UINT64_MAX, &v), 0);
	assert_true(v == 42);
}

static void
test_u64_overflow(void **state)
{
	static const char *const over[] = {
		"18446744073709551616", /* 2^64 */
		"18446744073709551619",
		"18446744073709551620",
		"18446744073709551700",
		"19000000000000000000",
		"99999999999999999999",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(over); i++) {
		v = 99;
		assert_int_equal(num_parse_u64(over[i], 0, UINT64_MAX, &v), VT_ERR_RANGE);
		assert_true(v == 0);
	}
	/* More than twenty characters is refused outright, before any arithmetic. */
	v = 99;
	assert_int_equal(num_parse_u64("100000000000000000000", 0, UINT64_MAX, &v),
	    VT_ERR_INVALID);
	assert_true(v == 0);
	assert_int_equal(num_parse_u64("000000000000000000001", 0, UINT64_MAX, &v),
	    VT_ERR_INVALID);
	assert_int_equal(num_parse_u64("340282366920938463463374607431768211456", 0, UINT64_MAX,
	    &v), VT_ERR_INVALID);
}

static void
test_u64_bounds(void **state)
{
	uint64_t v;

	(void)state;
	v = 99;
	assert_int_equal(num_parse_u64("4", 5, 10, &v), VT_ERR_RANGE);
	assert_true(v == 0);
	assert_int_equal(num_parse_u64("5", 5, 10, &v), 0);
	assert_true(v == 5);
	assert_int_equal(num_parse_u64("10", 5, 10, &v), 0);
	assert_true(v == 10);
	v = 99;
	assert_int_equal(num_parse_u64("11", 5, 10, &v), VT_ERR_RANGE);
	assert_true(v == 0);
	assert_int_equal(num_parse_u64("0", 0, 0, &v), 0);
	assert_int_equal(num_parse_u64("1", 0, 0, &v), VT_ERR_RANGE);
	assert_int_equal(num_parse_u64("18446744073709551615", 0, UINT64_MAX - 1, &v),
	    VT_ERR_RANGE);
}

static void
test_u64_rejects_non_digits(void **state)
{
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(NOT_DIGITS); i++) {
		v = 99;
		assert_int_equal(num_parse_u64(NOT_DIGITS[i], 0, UINT64_MAX, &v), VT_ERR_INVALID);
		assert_true(v == 0);
	}
	v = 99;
	assert_int_equal(num_parse_u64(NULL, 0, UINT64_MAX, &v), VT_ERR_INVALID);
	assert_true(v == 0);
}

static void
test_int_bounds(void **state)
{
	int v;
	size_t i;

	(void)state;
	assert_int_equal(num_parse_int("2147483647", 0, INT_MAX, &v), 0);
	assert_int_equal(v, INT_MAX);
	v = 99;
	assert_int_equal(num_parse_int("2147483648", 0, INT_MAX, &v), VT_ERR_RANGE);
	assert_int_equal(v, 0);
	assert_int_equal(num_parse_int("18446744073709551616", 0, INT_MAX, &v), VT_ERR_RANGE);
	assert_int_equal(num_parse_int("0", 0, 65535, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(num_parse_int("65535", 0, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(num_parse_int("65536", 0, 65535, &v), VT_ERR_RANGE);
	assert_int_equal(num_parse_int("0", 1, 256, &v), VT_ERR_RANGE);
	assert_int_equal(num_parse_int("1", 1, 256, &v), 0);
	assert_int_equal(v, 1);
	for (i = 0; i < VT_NELEM(NOT_DIGITS); i++) {
		v = 99;
		assert_int_equal(num_parse_int(NOT_DIGITS[i], 0, INT_MAX, &v), VT_ERR_INVALID);
		assert_int_equal(v, 0);
	}
	assert_int_equal(num_parse_int(NULL, 0, 10, &v), VT_ERR_INVALID);
}

/* A negative minimum or min > max is a programmer error: VT_ASSERT aborts the process. */
static void
expect_abort_int(int min, int max)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int v;

		/* cmocka may trap signals; the child must die of the real SIGABRT. */
		signal(SIGABRT, SIG_DFL);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(3);
		if (num_parse_int("1", min, max, &v) != 0)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void
test_int_bad_bounds_abort(void **state)
{
	(void)state;
	expect_abort_int(-1, 10);
	expect_abort_int(10, 5);
}

static void
test_duration_units(void **state)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} ok[] = {
		{ "0", 0 },
		{ "0ms", 0 },
		{ "500ms", 500 },
		{ "1s", 1000 },
		{ "10", 10000 }, /* bare number: seconds */
		{ "90s", 90000 },
		{ "15m", 900000 },
		{ "1m", 60000 },
		{ "12h", 43200000 },
		{ "1d", 86400000 },
		{ "30d", 2592000000ull },
		{ "007m", 420000 },
		{ "18446744073709551615ms", UINT64_MAX },
		{ "18446744073709551s", 18446744073709551000ull },
		{ "213503982334d", 213503982334ull * 86400000ull },
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(ok); i++) {
		uint64_t v = 1;

		assert_int_equal(num_parse_duration_ms(ok[i].s, 0, UINT64_MAX, &v), 0);
		assert_true(v == ok[i].ms);
	}
}

static void
test_duration_rejects(void **state)
{
	static const char *const bad[] = {
		"", "ms", "s", "h", "12H", "12M", "12D", "12MS", "12 h", " 12h", "12h ", "12hh",
		"12x", "12us", "12ns", "12w", "12y", "1.5h", "-1h", "+1h", "1d1h", "1h30m", "1msx",
		"h12", "12sms", "0x10s", "1e3ms", "12\xc2\xb5s", "12h\n",
		"100000000000000000000ms", /* 21 digits */
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++) {
		uint64_t v = 1;

		assert_int_equal(num_parse_duration_ms(bad[i], 0, UINT64_MAX, &v), VT_ERR_INVALID);
		assert_true(v == 0);
	}
	{
		uint64_t v = 1;

		assert_int_equal(num_parse_duration_ms(NULL, 0, UINT64_MAX, &v), VT_ERR_INVALID);
		assert_true(v == 0);
	}
}

static void
test_duration_overflow(void **state)
{
	static const char *const over[] = {
		"18446744073709551616ms", /* 2^64 ms */
		"18446744073709552s",     /* * 1000 overflows */
		"18446744073709551615s",
		"307445734561825861m",
		"5124095576030432h",
		"213503982335d",
		"99999999999999999999d",
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(over); i++) {
		uint64_t v = 1;

		assert_int_equal(num_parse_duration_ms(over[i], 0, UINT64_MAX, &v), VT_ERR_RANGE);
		assert_true(v == 0);
	}
}

static void
test_duration_bounds(void **state)
{
	uint64_t v;

	(void)state;
	/* The JWT_TTL window: [1m, 30d]. */
	v = 1;
	assert_int_equal(num_parse_duration_ms("59s", 60000, 2592000000ull, &v), VT_ERR_RANGE);
	assert_true(v == 0);
	assert_int_equal(num_parse_duration_ms("59999ms", 60000, 2592000000ull, &v), VT_ERR_RANGE);
	assert_int_equal(num_parse_duration_ms("60000ms", 60000, 2592000000ull, &v), 0);
	assert_true(v == 60000);
	assert_int_equal(num_parse_duration_ms("1m", 60000, 2592000000ull, &v), 0);
	assert_int_equal(num_parse_duration_ms("60", 60000, 2592000000ull, &v), 0);
	assert_true(v == 60000);
	assert_int_equal(num_parse_duration_ms("720h", 60000, 2592000000ull, &v), 0);
	assert_true(v == 2592000000ull);
	assert_int_equal(num_parse_duration_ms("30d", 60000, 2592000000ull, &v), 0);
	assert_int_equal(num_parse_duration_ms("2592000001ms", 60000, 2592000000ull, &v),
	    VT_ERR_RANGE);
	assert_int_equal(num_parse_duration_ms("721h", 60000, 2592000000ull, &v), VT_ERR_RANGE);
	assert_int_equal(num_parse_duration_ms("31d", 60000, 2592000000ull, &v), VT_ERR_RANGE);
	assert_true(v == 0);
}

static void
test_bool(void **state)
{
	static const char *const yes[] = { "1", "true", "yes", "on", "TRUE", "True", "YES", "On" };
	static const char *const no[] = { "0", "false", "no", "off", "FALSE", "No", "OFF", "oFf" };
	static const char *const bad[] = { "", "2", "-1", "01", "y", "n", "t", "f", "truee",
		" true", "true ", "enabled", "disabled", "null", "yes\n", "10" };
	size_t i;
	int v;

	(void)state;
	for (i = 0; i < VT_NELEM(yes); i++) {
		v = 0;
		assert_int_equal(num_parse_bool(yes[i], &v), 0);
		assert_int_equal(v, 1);
	}
	for (i = 0; i < VT_NELEM(no); i++) {
		v = 1;
		assert_int_equal(num_parse_bool(no[i], &v), 0);
		assert_int_equal(v, 0);
	}
	for (i = 0; i < VT_NELEM(bad); i++) {
		v = 1;
		assert_int_equal(num_parse_bool(bad[i], &v), VT_ERR_INVALID);
		assert_int_equal(v, 0);
	}
	v = 1;
	assert_int_equal(num_parse_bool(NULL, &v), VT_ERR_INVALID);
	assert_int_equal(v, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_happy_and_limits),
		cmocka_unit_test(test_u64_overflow),
		cmocka_unit_test(test_u64_bounds),
		cmocka_unit_test(test_u64_rejects_non_digits),
		cmocka_unit_test(test_int_bounds),
		cmocka_unit_test(test_int_bad_bounds_abort),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_rejects),
		cmocka_unit_test(test_duration_overflow),
		cmocka_unit_test(test_duration_bounds),
		cmocka_unit_test(test_bool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
