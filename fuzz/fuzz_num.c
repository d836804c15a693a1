/*
 * Bounded number parsing and e-mail normalization: query parameters (limit, durations, booleans),
 * environment configuration and the e-mail of every register, login and invite go through
 * num_parse_u64, num_parse_int, num_parse_duration_ms, num_parse_bool and auth_email_normalize.
 * This harness parses the input as a C string with each of them and checks their contracts: an
 * accepted value is within the caller's bounds and formats back to the same value, a rejected one
 * leaves the output zero, and a normalized e-mail is lower case, has one '@', keeps the input
 * length and normalizes to itself.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "base/err.h"
#include "base/num.h"
#include "fuzz.h"

static void
check_u64(const char *s, uint64_t min, uint64_t max)
{
	char buf[32];
	uint64_t v = 1, again = 1;
	size_t i;
	int r;

	r = num_parse_u64(s, min, max, &v);
	if (r != 0) {
		FUZZ_CHECK((r == VT_ERR_INVALID || r == VT_ERR_RANGE) && v == 0);
		return;
	}
	FUZZ_CHECK(v >= min && v <= max);
	FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= 20);
	for (i = 0; s[i] != '\0'; i++)
		FUZZ_CHECK(s[i] >= '0' && s[i] <= '9');
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	FUZZ_CHECK(num_parse_u64(buf, min, max, &again) == 0 && again == v);
}

static void
check_int(const char *s, int min, int max)
{
	uint64_t u;
	int v = 1, r;

	r = num_parse_int(s, min, max, &v);
	if (r != 0) {
		FUZZ_CHECK(v == 0);
		return;
	}
	FUZZ_CHECK(v >= min && v <= max);
	FUZZ_CHECK(num_parse_u64(s, 0, UINT64_MAX, &u) == 0 && u == (uint64_t)v);
}

static void
check_duration(const char *s, uint64_t min, uint64_t max)
{
	uint64_t v = 1, secs;
	size_t n = strlen(s);
	int r;

	r = num_parse_duration_ms(s, min, max, &v);
	if (r != 0) {
		FUZZ_CHECK((r == VT_ERR_INVALID || r == VT_ERR_RANGE) && v == 0);
		return;
	}
	FUZZ_CHECK(v >= min && v <= max);
	/* A bare number is seconds. */
	if (n > 0 && s[n - 1] >= '0' && s[n - 1] <= '9')
		FUZZ_CHECK(num_parse_u64(s, 0, UINT64_MAX, &secs) == 0 && secs * 1000 == v);
}

static void
check_email(const char *s)
{
	char out[AUTH_EMAIL_MAX + 1], again[AUTH_EMAIL_MAX + 1], err[AUTH_ERR_MAX];
	const char *at;
	size_t i;

	if (auth_email_normalize(s, out, err) != 0) {
		FUZZ_CHECK(out[0] == '\0' && err[0] != '\0');
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		return;
	}
	FUZZ_CHECK(strlen(out) == strlen(s));
	for (i = 0; out[i] != '\0'; i++)
		FUZZ_CHECK(!(out[i] >= 'A' && out[i] <= 'Z') && (unsigned char)out[i] > 0x20);
	FUZZ_CHECK((at = strchr(out, '@')) != NULL && strchr(at + 1, '@') == NULL && at != out);
	FUZZ_CHECK(auth_email_normalize(out, again, err) == 0 && strcmp(again, out) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	int b = 7, r;

	check_u64(s, 0, UINT64_MAX);
	check_u64(s, 1, 1000);
	check_int(s, 0, INT_MAX);
	check_int(s, 1, 500);
	check_duration(s, 0, UINT64_MAX);
	check_duration(s, 1000, 365ULL * 86400000);

	r = num_parse_bool(s, &b);
	FUZZ_CHECK(r == 0 ? (b == 0 || b == 1) : (r == VT_ERR_INVALID && b == 0));

	check_email(s);
	free(s);
	return 0;
}
