/*
 * Envelopes: every sealed record read back from the database (and any blob an attacker with
 * database write access plants) goes through envelope_parse via envelope_open and
 * envelope_key_version. This harness opens arbitrary bytes under a fixed keyring (one constant
 * master key, version 1, in guarded memory) and a fixed record context. Invariant: input bytes
 * never open, because producing a valid envelope needs the master key; an opened envelope means
 * the format check or the AEAD is broken (trap). The input is then sealed as plaintext and must
 * open again to the same bytes, under that context only. The seed corpus holds structurally valid
 * envelopes sealed for another record, kind or key, so the fuzzer starts deep in the parser.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "crypto/envelope.h"
#include "crypto/keyring.h"
#include "fuzz.h"

/* Constant master key: the harness needs reproducible runs, not secrecy. */
static const uint8_t MASTER[KEYRING_DEK_LEN] = "vaultterm-fuzz-master-key-000001";

static struct keyring *keyring;
static struct envelope_ctx ctx, other;

static void
fixed_uuid(struct vt_uuid *u, uint8_t fill)
{
	memset(u->b, fill, sizeof(u->b));
}

static void
seal_open_roundtrip(const uint8_t *pt, size_t ptlen)
{
	struct vbuf *blob = vbuf_new(ptlen + ENVELOPE_OVERHEAD);
	struct secmem *got = NULL;
	uint32_t version;

	FUZZ_CHECK(envelope_seal(keyring, &ctx, pt, ptlen, blob) == 0);
	FUZZ_CHECK(vbuf_len(blob) == ptlen + ENVELOPE_OVERHEAD);
	FUZZ_CHECK(envelope_key_version(vbuf_ptr(blob), vbuf_len(blob), &version) == 0);
	FUZZ_CHECK(version == 1);
	FUZZ_CHECK(envelope_open(keyring, &ctx, vbuf_ptr(blob), vbuf_len(blob), &got) == 0);
	FUZZ_CHECK(secmem_len(got) == ptlen);
	FUZZ_CHECK(ptlen == 0 || vt_ct_eq(secmem_ptr(got), pt, ptlen));
	secmem_free(got);
	got = NULL;
	/* Bound to its place: the same blob does not open for another record. */
	FUZZ_CHECK(envelope_open(keyring, &other, vbuf_ptr(blob), vbuf_len(blob), &got) ==
	    VT_ERR_CRYPTO);
	FUZZ_CHECK(got == NULL);
	vbuf_free(blob);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct secmem *mk;

	FUZZ_CHECK(secmem_init() == 0);
	FUZZ_CHECK((mk = secmem_dup(MASTER, sizeof(MASTER))) != NULL);
	FUZZ_CHECK(keyring_new_local(mk, 1, &keyring) == 0);
	fixed_uuid(&ctx.org, 0x11);
	ctx.kind = "secret_version";
	fixed_uuid(&ctx.record, 0x22);
	ctx.version = 1;
	other = ctx;
	fixed_uuid(&other.record, 0x33);
	/* The "never opens" invariant is only meaningful if a real envelope does open. */
	seal_open_roundtrip((const uint8_t *)"self-test", 9);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secmem *pt = NULL;
	uint8_t *copy;
	uint32_t version = 0xffffffff;
	int r;

	/* An exact-size copy, so ASan flags any read past the blob. */
	copy = xmalloc(size == 0 ? 1 : size);
	if (size > 0)
		memcpy(copy, data, size);

	r = envelope_key_version(copy, size, &version);
	FUZZ_CHECK(r == 0 || (r == VT_ERR_INVALID && version == 0));
	/* A well-formed envelope has exactly the declared length. */
	FUZZ_CHECK(r != 0 || size >= ENVELOPE_OVERHEAD);

	r = envelope_open(keyring, &ctx, copy, size, &pt);
	if (r == 0) {
		fprintf(stderr, "fuzz: input bytes opened as an envelope\n");
		__builtin_trap();
	}
	FUZZ_CHECK(r == VT_ERR_CRYPTO && pt == NULL);
	free(copy);

	if (size <= 4096)
		seal_open_roundtrip(data, size);
	return 0;
}
