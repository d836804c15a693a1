/*
 * Signed notes and checkpoints: audit checkpoints, witness cosignatures and exports arrive as
 * signed notes from outside, through note_verify, checkpoint_parse and checkpoint_open. This
 * harness feeds arbitrary bytes to all three. Invariants: nothing crashes or leaks; input bytes
 * never verify under the harness's fixed key (a constant Ed25519 seed), because a valid signature
 * needs that key, so a note that verifies means the parser or the verification is broken (trap);
 * under other known keys (the Go reference's PeterNeumann and EnochRoot, whose published notes
 * are in the corpus) a verified text is a prefix ending in a blank line; a checkpoint that parses
 * formats back to exactly the same bytes (the encoding is canonical); and input that note_sign
 * accepts as text verifies again to exactly that text, under the fixed key only. The seed corpus
 * holds the Go and C2SP vectors, a sum.golang.org tree head with witness cosignatures, and
 * checkpoints signed by another key or with the fixed key's name and id over another text.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "crypto/note.h"
#include "fuzz.h"

/* Constant seed: the harness needs reproducible runs, not secrecy. */
static const uint8_t SEED[NOTE_ED25519_SEED_LEN] = "vaultterm-fuzz-note-key-00000001";
#define FUZZ_KEY_NAME "vaultterm.fuzz/note"

static const char *const OTHER_VKEYS[] = {
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	"EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
};

static struct note_signer *signer;
static struct note_verifier *fixed;
static struct note_verifier *others[2];

/* Signs text with the fixed key; if it is signable, it verifies back to exactly that text. */
static void
sign_verify_roundtrip(const char *text, size_t len)
{
	struct vbuf *b = vbuf_new(NOTE_MAX);
	size_t tl = 0;
	int r;

	r = note_sign(signer, text, len, b);
	FUZZ_CHECK(r == 0 || r == VT_ERR_INVALID || r == VT_ERR_TOO_LARGE);
	if (r == 0) {
		const char *note = (const char *)vbuf_ptr(b);

		FUZZ_CHECK(vbuf_len(b) > len && vbuf_len(b) <= NOTE_MAX);
		FUZZ_CHECK(note_verify(note, vbuf_len(b), (const struct note_verifier *const *)&fixed,
		    1, &tl, NULL) == 0);
		FUZZ_CHECK(tl == len && vt_ct_eq(note, text, len));
		FUZZ_CHECK(note_verify(note, vbuf_len(b), (const struct note_verifier *const *)others,
		    VT_NELEM(others), &tl, NULL) == VT_ERR_VERIFY);
	} else {
		FUZZ_CHECK(vbuf_len(b) == 0);
	}
	vbuf_free(b);
}

/* A parsed checkpoint formats back to the bytes it was parsed from. */
static void
checkpoint_reformat(const char *text, size_t len, const struct checkpoint *cp)
{
	const char *ext[CHECKPOINT_EXT_MAX];
	char *copies[CHECKPOINT_EXT_MAX];
	struct vbuf *b = vbuf_new(NOTE_MAX);
	size_t i;

	for (i = 0; i < cp->n_ext; i++) {
		copies[i] = xstrndup(cp->ext[i].p, cp->ext[i].len);
		FUZZ_CHECK(strlen(copies[i]) == cp->ext[i].len);
		ext[i] = copies[i];
	}
	FUZZ_CHECK(checkpoint_format(cp->origin, cp->size, cp->root, ext, cp->n_ext, b) == 0);
	FUZZ_CHECK(vbuf_len(b) == len && vt_ct_eq(vbuf_ptr(b), text, len));
	for (i = 0; i < cp->n_ext; i++)
		free(copies[i]);
	vbuf_free(b);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	FUZZ_CHECK(secmem_init() == 0);
	FUZZ_CHECK(note_signer_new(FUZZ_KEY_NAME, SEED, &signer) == 0);
	FUZZ_CHECK(note_signer_verifier(signer, &fixed) == 0);
	for (i = 0; i < VT_NELEM(OTHER_VKEYS); i++)
		FUZZ_CHECK(note_verifier_parse(OTHER_VKEYS[i], &others[i]) == 0);
	/* The "never verifies" invariant is only meaningful if a real note does verify. */
	sign_verify_roundtrip("self-test\n", 10);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct checkpoint cp;
	uint8_t flags[VT_NELEM(others)];
	size_t tl = 1;
	char *copy;
	int r, r2;

	/* An exact-size copy, so ASan flags any read past the input. */
	copy = xmalloc(size == 0 ? 1 : size);
	if (size > 0)
		memcpy(copy, data, size);

	r = note_verify(copy, size, (const struct note_verifier *const *)&fixed, 1, &tl, NULL);
	if (r == 0) {
		fprintf(stderr, "fuzz: input bytes verified under the fixed key\n");
		__builtin_trap();
	}
	FUZZ_CHECK(r == VT_ERR_INVALID || r == VT_ERR_VERIFY || r == VT_ERR_TOO_LARGE);
	FUZZ_CHECK(tl == 0);
	FUZZ_CHECK((r == VT_ERR_TOO_LARGE) == (size > NOTE_MAX));

	/* Other keys may verify the corpus's published notes: the text is then a proper prefix
	 * followed by the blank line, and some key signed. */
	r2 = note_verify(copy, size, (const struct note_verifier *const *)others, VT_NELEM(others),
	    &tl, flags);
	FUZZ_CHECK(r2 == 0 || r2 == VT_ERR_INVALID || r2 == VT_ERR_VERIFY ||
	    r2 == VT_ERR_TOO_LARGE);
	/* Well-formedness does not depend on the keys. */
	FUZZ_CHECK((r == VT_ERR_INVALID) == (r2 == VT_ERR_INVALID));
	if (r2 == 0) {
		FUZZ_CHECK(tl > 0 && tl + 2 < size && copy[tl - 1] == '\n' && copy[tl] == '\n');
		FUZZ_CHECK(flags[0] == 1 || flags[1] == 1);
	} else {
		FUZZ_CHECK(tl == 0);
	}

	r = checkpoint_parse(copy, size, &cp);
	FUZZ_CHECK(r == 0 || r == VT_ERR_INVALID || r == VT_ERR_TOO_LARGE);
	if (r == 0)
		checkpoint_reformat(copy, size, &cp);
	else
		FUZZ_CHECK(cp.n_ext == 0 && cp.size == 0 && cp.origin[0] == '\0');

	r = checkpoint_open(copy, size, (const struct note_verifier *const *)&fixed, 1, &cp);
	FUZZ_CHECK(r != 0);

	sign_verify_roundtrip(copy, size);
	free(copy);
	return 0;
}
