/*
 * Which build of Vectorscan's scan code the scanner runs (src/scan/db.c scan_hs). Vectorscan
 * 5.4.9's AVX-512 build loses matches depending on where the scanned bytes sit in memory, even
 * in one call (docs/scanner.md, Limits): "x[a-z.]" over 64 '0' bytes then "x." is lost at most
 * of the 64 addresses modulo 64, and its AVX2 build loses others (the two bugs worked around in
 * rules). The scanner calls the SSE4.2 build, which finds them all.
 *
 * Here a rule "x[a-z.]" is fed a run of '0' bytes then the same text, in two feeds, so the
 * second block lands at every offset of the stream's window modulo 64: it must be found every
 * time. With the pinning off (scan_hs_pin(0), the library's own choice), on a CPU whose widest
 * build has the bug, the same placements lose it: that is what this test would see if the
 * pinning broke (a libhs without the SSE4.2 entry points, a change to db.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/secmem.h"
#include "scan/scan.h"
#include "scan/scan_internal.h"

static const struct scan_rule XDOT[] = {
	{ "t-xdot", "", SCAN_SEV_LOW, "x[a-z.]", 0, 2, NULL, NULL, NULL },
};

static int
count(void *ud, const struct scan_match *m)
{
	(void)m;
	(*(int *)ud)++;
	return 0;
}

/* Placements (prefix of 0..127 bytes, run of 60..70 '0') that do not find the one match. */
static int
lost_placements(void)
{
	static uint8_t buf[256];
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX];
	size_t pre, run;
	int lost = 0;

	assert_int_equal(scan_db_open_rules(XDOT, 1, &db, err), 0);
	for (pre = 0; pre < 128; pre++) {
		for (run = 60; run <= 70; run++) {
			struct scan_stream *s = NULL;
			int n = 0;

			memset(buf, '0', sizeof(buf));
			memcpy(buf + pre + run, "x.", 2);
			assert_int_equal(scan_stream_open(db, NULL, &s), 0);
			if (pre > 0)
				assert_int_equal(scan_stream_feed(s, buf, pre, count, &n), 0);
			assert_int_equal(scan_stream_feed(s, buf + pre, run + 2, count, &n), 0);
			assert_int_equal(scan_stream_close(s, count, &n), 0);
			assert_true(n <= 1);
			lost += n == 0;
		}
	}
	scan_db_free(db);
	return lost;
}

static void
test_pinned_finds_every_placement(void **state)
{
	const struct scan_hs_api *api;

	(void)state;
	scan_hs_pin(1);
	api = scan_hs();
	print_message("Vectorscan build: %s\n", api->build);
#if defined(__x86_64__)
	/* Debian's libvectorscan5 exports the SSE4.2 build: the scanner must be using it */
	assert_true(api->pinned);
#endif
	assert_int_equal(lost_placements(), 0);
}

static void
test_unpinned_shows_the_bug(void **state)
{
	int lost;

	(void)state;
	scan_hs_pin(0);
	assert_false(scan_hs()->pinned);
	lost = lost_placements();
	scan_hs_pin(1);
	print_message("library's own choice: %d of %d placements lost\n", lost, 128 * 11);
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
		/* the bug this pinning avoids, on this machine: if it is gone, so is the reason */
		assert_true(lost > 0);
		return;
	}
#endif
	print_message("no AVX-512 build in use here: nothing to compare\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned_finds_every_placement),
		cmocka_unit_test(test_unpinned_shows_the_bug),
	};

	if (secmem_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
