/*
 * Bounded number and duration parsing. Never atoi/strtol bare: these reject signs where they do
 * not belong, leading/trailing junk, overflow and out-of-range values with one error code.
 */
#ifndef VT_BASE_NUM_H
#define VT_BASE_NUM_H

#include <stdint.h>

#include "base/util.h"

/* Decimal digits only, min ≤ value ≤ max. VT_ERR_RANGE out of range, VT_ERR_INVALID otherwise. */
int num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out) VT_WUR;
int num_parse_int(const char *s, int min, int max, int *out) VT_WUR;

/*
 * Duration: "<n>" seconds, or "<n>ms|s|m|h|d" (e.g. "12h", "30d", "15m"). Result in milliseconds,
 * within [min_ms, max_ms].
 */
int num_parse_duration_ms(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *out) VT_WUR;

/* Boolean: 1/0, true/false, yes/no, on/off (case-insensitive). */
int num_parse_bool(const char *s, int *out) VT_WUR;

#endif
