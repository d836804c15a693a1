/*
 * Number parsing with explicit bounds. Overflow is detected before it happens.
 */
#include "base/num.h"

#include <string.h>
#include <strings.h>

#include "base/err.h"

static int
parse_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	*out = 0;
	if (n == 0 || n > 20)
		return VT_ERR_INVALID;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return VT_ERR_INVALID;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return VT_ERR_RANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int r;

	*out = 0;
	if (s == NULL)
		return VT_ERR_INVALID;
	if ((r = parse_digits(s, strlen(s), &v)) != 0)
		return r;
	if (v < min || v > max)
		return VT_ERR_RANGE;
	*out = v;
	return 0;
}

int
num_parse_int(const char *s, int min, int max, int *out)
{
	uint64_t v;
	int r;

	*out = 0;
	VT_ASSERT(min >= 0 && min <= max);
	if ((r = num_parse_u64(s, (uint64_t)min, (uint64_t)max, &v)) != 0)
		return r;
	*out = (int)v;
	return 0;
}

int
num_parse_duration_ms(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	size_t n, i, digits;
	uint64_t v, mult = 1000;
	int r;

	*out = 0;
	if (s == NULL)
		return VT_ERR_INVALID;
	n = strlen(s);
	for (digits = 0; digits < n && s[digits] >= '0' && s[digits] <= '9'; digits++)
		;
	if (digits < n) {
		for (i = 0; i < VT_NELEM(units); i++) {
			if (strcmp(s + digits, units[i].suffix) == 0) {
				mult = units[i].mult;
				break;
			}
		}
		if (i == VT_NELEM(units))
			return VT_ERR_INVALID;
	}
	if ((r = parse_digits(s, digits, &v)) != 0)
		return r;
	if (v > UINT64_MAX / mult)
		return VT_ERR_RANGE;
	v *= mult;
	if (v < min_ms || v > max_ms)
		return VT_ERR_RANGE;
	*out = v;
	return 0;
}

int
num_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	*out = 0;
	if (s == NULL)
		return VT_ERR_INVALID;
	for (i = 0; i < VT_NELEM(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return VT_ERR_INVALID;
}
