/*
 * RFC 3339 times: API query parameters and request bodies (audit filters, expiries) carry times
 * that vtime_parse_rfc3339 reads. This harness parses the input as a C string and checks that an
 * accepted time survives the API's own output format: vtime_format_rfc3339 of the parsed instant
 * must parse back to exactly the same microsecond, so a time the server accepts is a time it can
 * echo without changing it. Rejected input leaves *us zero.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/vtime.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), out[VTIME_RFC3339_LEN];
	int64_t us = 1, again = 1;
	int r;

	r = vtime_parse_rfc3339(s, &us);
	if (r != 0) {
		FUZZ_CHECK(r == VT_ERR_INVALID && us == 0);
		goto out;
	}
	vtime_format_rfc3339(us, out);
	FUZZ_CHECK(strlen(out) == 27);
	if (vtime_parse_rfc3339(out, &again) != 0 || again != us) {
		fprintf(stderr, "fuzz: \"%s\" -> %lld -> \"%s\" -> %lld\n", s, (long long)us, out,
		    (long long)again);
		__builtin_trap();
	}
 out:
	free(s);
	return 0;
}
