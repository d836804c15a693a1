/*
 * Time formatting and parsing without locale or TZ dependence: conversions use the civil-from-days
 * algorithm (H. Hinnant) instead of timegm/strptime so parsing is strict and thread-safe.
 */
#include "base/vtime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"

int64_t
vtime_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t
vtime_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

void
vtime_format_rfc3339(int64_t us, char out[static VTIME_RFC3339_LEN])
{
	/* Floor division without us - 999999 or secs * 1000000, which overflow near INT64_MIN. */
	int64_t secs = us / 1000000 - (us % 1000000 < 0);
	int64_t frac = us % 1000000 + (us % 1000000 < 0 ? 1000000 : 0);
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t sod = secs - days * 86400, y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		/* Outside RFC 3339's four-digit years: clamp rather than emit a malformed time. */
		snprintf(out, VTIME_RFC3339_LEN, "%s", y < 0 ? "0000-01-01T00:00:00.000000Z" :
		    "9999-12-31T23:59:59.999999Z");
		return;
	}
	snprintf(out, VTIME_RFC3339_LEN, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", (int)y, m % 13u,
	    d % 32u, (int)(sod / 3600) % 24, (int)(sod / 60 % 60), (int)(sod % 60),
	    (int)frac % 1000000);
}

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
vtime_parse_rfc3339(const char *s, int64_t *us)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0, sign = 1;
	int64_t frac = 0, t;
	size_t n, i = 0;

	*us = 0;
	if (s == NULL)
		return VT_ERR_INVALID;
	n = strlen(s);
	if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d))
		return VT_ERR_INVALID;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return VT_ERR_INVALID;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return VT_ERR_INVALID;
	i = 10;
	if (n > 10) {
		if ((s[10] != 'T' && s[10] != 't') || n < 20 || digits(s + 11, 2, &h) ||
		    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
			return VT_ERR_INVALID;
		if (h > 23 || mi > 59 || se > 60)
			return VT_ERR_INVALID;
		if (se == 60)
			se = 59; /* leap second: clamp */
		i = 19;
		if (s[i] == '.') {
			int nd = 0;

			i++;
			while (i < n && s[i] >= '0' && s[i] <= '9') {
				if (nd < 6) {
					frac = frac * 10 + (s[i] - '0');
					nd++;
				}
				i++;
			}
			if (nd == 0)
				return VT_ERR_INVALID;
			while (nd++ < 6)
				frac *= 10;
		}
		if (i == n - 1 && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
		} else if (i + 6 == n && (s[i] == '+' || s[i] == '-')) {
			sign = s[i] == '-' ? -1 : 1;
			if (digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || digits(s + i + 4, 2, &om) ||
			    oh > 23 || om > 59)
				return VT_ERR_INVALID;
			i = n;
		} else {
			return VT_ERR_INVALID;
		}
	}
	if (i != n)
		return VT_ERR_INVALID;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	t -= sign * (oh * 3600 + om * 60);
	/*
	 * An offset can move a date at either end outside years 0000-9999 UTC, which
	 * vtime_format_rfc3339 cannot show (it clamps): refuse it rather than echo another time.
	 */
	if (t < days_from_civil(0, 1, 1) * 86400 ||
	    t > days_from_civil(9999, 12, 31) * 86400 + 86399)
		return VT_ERR_INVALID;
	*us = t * 1000000 + frac;
	return 0;
}
