/*
 * The allowlist inside long values (src/scan/rules.c contains(): values of 256 bytes or more are
 * searched 16 positions at a time): an allowlisted word written at every position of a PEM
 * block's body, for bodies of several lengths around the vector width, silences the block; the
 * same word with its last byte changed does not. The PEM literals are split so this file is not
 * itself a finding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/secmem.h"
#include "scan/scan.h"

static const char BEGIN[] = "-----BEGIN " "RSA PRIVATE KEY-----\n";
static const char END[] = "\n-----END " "RSA PRIVATE KEY-----\n";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
count(void *ud, const struct scan_match *m)
{
	size_t *n = ud;

	if (strcmp(m->rule_id, "pem-rsa-private-key") == 0)
		(*n)++;
	return 0;
}

static size_t
found(const struct scan_db *db, const char *body, size_t n)
{
	char *t = malloc(sizeof(BEGIN) + n + sizeof(END));
	size_t k = 0, o = 0;

	assert_non_null(t);
	memcpy(t + o, BEGIN, sizeof(BEGIN) - 1);
	o += sizeof(BEGIN) - 1;
	memcpy(t + o, body, n);
	o += n;
	memcpy(t + o, END, sizeof(END) - 1);
	o += sizeof(END) - 1;
	assert_int_equal(scan_buffer(db, NULL, t, o, count, &k), 0);
	free(t);
	return k;
}

static void
test_allowlist_every_position(void **state)
{
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX], body[600];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t n, i, j, checked = 0;

	(void)state;
	assert_int_equal(scan_db_open(&db, err), 0);
	for (i = 0; i < sizeof(body); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		body[i] = B64[x % 64];
	}
	for (n = 470; n <= 490; n += 3) {
		char w[600];

		assert_int_equal(found(db, body, n), 1);
		for (i = 0; i + 7 <= n; i++) {
			memcpy(w, body, n);
			memcpy(w + i, "EXAMPLE", 7);
			if (found(db, w, n) != 0)
				fail_msg("body %zu: EXAMPLE at %zu not allowlisted", n, i);
			w[i + 6] = 'F'; /* "EXAMPLF": random again, unless the body held it already */
			for (j = 0; j + 7 <= n && memcmp(w + j, "EXAMPLE", 7) != 0; j++)
				;
			if (j + 7 > n) {
				if (found(db, w, n) != 1)
					fail_msg("body %zu: EXAMPLF at %zu not found", n, i);
				checked++;
			}
		}
	}
	assert_true(checked > 3000);
	scan_db_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowlist_every_position),
	};

	if (secmem_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
