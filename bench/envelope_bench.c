/*
 * Envelope seal/open rate, one thread, for bench/reveal.sh: how many records of SIZE bytes (1 KiB
 * by default) envelope_seal and envelope_open handle per second, each timed on its own for about
 * SECONDS, with the AAD of a secret version. A seal draws a DEK in guarded memory, wraps it under
 * the master key and encrypts the record; an open unwraps and decrypts into new guarded memory.
 * The script prints these next to `openssl speed -evp aes-256-gcm` (raw AES-GCM of one record
 * under an already expanded key), the floor of what any envelope can cost.
 *
 *   envelope_bench [SECONDS [SIZE]]   → "seal <ops/s>\nopen <ops/s>\nseal+open <ops/s>\n"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/encode.h"
#include "base/num.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "crypto/keyring.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct envelope_ctx ctx;
	struct keyring *kr = NULL;
	struct vbuf *blob = NULL;
	struct secmem *pt = NULL;
	uint8_t master[KEYRING_DEK_LEN], *record = NULL;
	double secs = 2.0, t0, t, seal_rate, open_rate;
	uint64_t n, batch = 256, i;
	int s = 2, size = 1024, r, rc = 1;

	if ((argc > 1 && num_parse_int(argv[1], 1, 600, &s) != 0) ||
	    (argc > 2 && num_parse_int(argv[2], 0, 1024 * 1024, &size) != 0)) {
		fprintf(stderr, "usage: envelope_bench [SECONDS [SIZE]]\n");
		return 2;
	}
	secs = s;
	if (secmem_init() != 0)
		return 1;
	random_bytes(master, sizeof(master));
	r = keyring_new_local(secmem_dup(master, sizeof(master)), 1, &kr);
	sodium_memzero(master, sizeof(master));
	if (r != 0)
		goto out;
	memset(&ctx, 0, sizeof(ctx));
	uuid_random(&ctx.org);
	uuid_random(&ctx.record);
	ctx.kind = "secret_version";
	ctx.version = 1;
	record = malloc((size_t)size + 1);
	if (record == NULL)
		goto out;
	random_bytes(record, (size_t)size);
	blob = vbuf_new(ENVELOPE_OVERHEAD + (size_t)size);

	/* seal */
	n = 0;
	t0 = now_s();
	do {
		for (i = 0; i < batch; i++) {
			vbuf_reset(blob);
			if (envelope_seal(kr, &ctx, record, (size_t)size, blob) != 0)
				goto out;
		}
		n += batch;
	} while ((t = now_s() - t0) < secs);
	seal_rate = (double)n / t;

	/* open (of the last envelope sealed) */
	n = 0;
	t0 = now_s();
	do {
		for (i = 0; i < batch; i++) {
			if (envelope_open(kr, &ctx, vbuf_ptr(blob), vbuf_len(blob), &pt) != 0)
				goto out;
			secmem_free(pt);
			pt = NULL;
		}
		n += batch;
	} while ((t = now_s() - t0) < secs);
	open_rate = (double)n / t;

	printf("seal %.0f\nopen %.0f\nseal+open %.0f\n", seal_rate, open_rate,
	    1.0 / (1.0 / seal_rate + 1.0 / open_rate));
	rc = 0;
 out:
	if (rc != 0)
		fprintf(stderr, "envelope_bench: seal or open failed\n");
	secmem_free(pt);
	vbuf_free(blob);
	free(record);
	keyring_free(kr);
	return rc;
}
