/*
 * Time helpers: wall-clock microseconds, a monotonic clock for durations, and RFC 3339 UTC
 * formatting/parsing (the API's time format).
 */
#ifndef VT_BASE_VTIME_H
#define VT_BASE_VTIME_H

#include <stdint.h>

#include "base/util.h"

#define VTIME_RFC3339_LEN 32 /* buffer size for vtime_format_rfc3339 */

/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t vtime_now_us(void);
/* Monotonic milliseconds, for measuring durations only. */
uint64_t vtime_mono_ms(void);
/* "2026-06-23T10:11:12.123456Z" (microseconds, UTC). */
void vtime_format_rfc3339(int64_t us, char out[static VTIME_RFC3339_LEN]);
/*
 * Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)". A date alone means 00:00:00Z.
 * VT_ERR_INVALID on anything else, an impossible date, or an instant outside years 0000-9999 UTC.
 */
int vtime_parse_rfc3339(const char *s, int64_t *us) VT_WUR;

#endif
