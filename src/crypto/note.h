/*
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519, and tlog checkpoints
 * (c2sp.org/tlog-checkpoint) as their text: the format the audit chain signs its Merkle tree
 * heads in, readable by the Go reference (golang.org/x/mod/sumdb/note) and by witnesses.
 *
 * A signed note is UTF-8 text without control characters other than '\n', ending in '\n', then a
 * blank line, then signature lines "— <key name> <base64(key id ‖ signature)>\n" (U+2014, space).
 * The text and the signatures are separated by the LAST blank line of the note. A key id is the
 * first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte Ed25519 public key). Keys travel in
 * the Go encodings: verifier key "<name>+<8 hex key id>+<base64(0x01 ‖ public key)>", signer key
 * "PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 ‖ seed)>". Only Ed25519 (type 0x01) is
 * supported; a key of another type does not parse, and a signature by one is an unknown key's.
 *
 * Errors: VT_ERR_INVALID for anything malformed (checked before any cryptography), VT_ERR_TOO_LARGE
 * past NOTE_MAX, VT_ERR_VERIFY when the signatures do not establish the note (one code whatever
 * the reason). Ed25519 is libsodium's crypto_sign_ed25519; nothing is implemented here.
 */
#ifndef VT_CRYPTO_NOTE_H
#define VT_CRYPTO_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/secmem.h"
#include "base/util.h"
#include "base/vbuf.h"

#define NOTE_MAX ((size_t)16 << 10)  /* a whole signed note, text and signatures: 16 KiB */
#define NOTE_MAX_SIGS 100            /* signature lines in a note (the spec requires >= 16) */
#define NOTE_MAX_VERIFIERS 64        /* keys passed to one note_verify */
#define NOTE_NAME_MAX 255            /* bytes of a key name */
#define NOTE_KEY_ID_LEN 4
#define NOTE_ALG_ED25519 0x01
#define NOTE_ED25519_PK_LEN 32
#define NOTE_ED25519_SEED_LEN 32
#define NOTE_ED25519_SIG_LEN 64
/* Encoded key lengths without the NUL: name '+' 8 hex '+' base64 of 33 bytes (44 characters). */
#define NOTE_VKEY_MAX (NOTE_NAME_MAX + 1 + 8 + 1 + 44)
#define NOTE_SKEY_MAX (12 + NOTE_VKEY_MAX) /* "PRIVATE+KEY+" ‖ the same shape */

#define CHECKPOINT_HASH_LEN 32          /* an RFC 6962 SHA-256 root */
#define CHECKPOINT_ORIGIN_MAX NOTE_NAME_MAX /* the origin is also the log's key name */
#define CHECKPOINT_EXT_MAX 16           /* extension lines after the root */

/* A public key that may sign notes: name, key id and Ed25519 public key. */
struct note_verifier;
/* A private key: the Ed25519 key pair lives in guarded memory (secmem). */
struct note_signer;

/* One line of a parsed checkpoint, borrowed from the text it was parsed from (no NUL). */
struct checkpoint_line {
	const char *p;
	size_t len;
};

/* A parsed checkpoint. origin is a NUL-terminated copy; ext[] borrow the parsed text. */
struct checkpoint {
	char origin[CHECKPOINT_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[CHECKPOINT_HASH_LEN];
	size_t n_ext;
	struct checkpoint_line ext[CHECKPOINT_EXT_MAX];
};

/* The key id of an Ed25519 key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pk)[:4] (big-endian as a u32). */
void note_key_id(const char *name, const uint8_t pk[static NOTE_ED25519_PK_LEN],
    uint8_t out[static NOTE_KEY_ID_LEN]);

/*
 * Verifier keys. _parse reads the Go vkey encoding and checks the key id against the name and key;
 * _new builds one from a name and public key. Owned by the caller; VT_ERR_INVALID on a bad name
 * (empty, longer than NOTE_NAME_MAX, not UTF-8, a control character, a Unicode space or '+'),
 * a bad encoding, another key type or a key id that does not match.
 */
int note_verifier_parse(const char *vkey, struct note_verifier **out) VT_WUR;
int note_verifier_new(const char *name, const uint8_t pk[static NOTE_ED25519_PK_LEN],
    struct note_verifier **out) VT_WUR;
/* The vkey encoding (lower-case hex id), NUL-terminated. */
void note_verifier_format(const struct note_verifier *v, char out[static NOTE_VKEY_MAX + 1]);
/* The key name, borrowed until note_verifier_free. */
const char *note_verifier_name(const struct note_verifier *v);
uint32_t note_verifier_key_id(const struct note_verifier *v);
void note_verifier_free(struct note_verifier *v);

/*
 * Signer keys. _new copies the 32-byte seed into guarded memory (the caller still wipes its own
 * copy); _generate draws a fresh seed there; _parse reads the Go skey encoding (a secret string:
 * the caller wipes it) and checks its key id. Owned by the caller; VT_ERR_INVALID as for
 * verifiers, VT_ERR_NOMEM if guarded memory runs out.
 */
int note_signer_new(const char *name, const uint8_t seed[static NOTE_ED25519_SEED_LEN],
    struct note_signer **out) VT_WUR;
int note_signer_generate(const char *name, struct note_signer **out) VT_WUR;
int note_signer_parse(const char *skey, struct note_signer **out) VT_WUR;
/* The skey encoding as a NUL-terminated string of secmem_len bytes in new guarded memory. */
int note_signer_format_skey(const struct note_signer *s, struct secmem **out) VT_WUR;
/* The matching verifier key: encoded, or as a new verifier owned by the caller. */
void note_signer_format_vkey(const struct note_signer *s, char out[static NOTE_VKEY_MAX + 1]);
int note_signer_verifier(const struct note_signer *s, struct note_verifier **out) VT_WUR;
const char *note_signer_name(const struct note_signer *s);
uint32_t note_signer_key_id(const struct note_signer *s);
/* Wipes the key pair and frees; NULL-safe. */
void note_signer_free(struct note_signer *s);

/*
 * Signs text (len bytes: non-empty, ending in '\n', UTF-8 without control characters other than
 * '\n') and appends the whole signed note to out: the text, a blank line and one signature line.
 * VT_ERR_INVALID for such text, VT_ERR_TOO_LARGE if the note would exceed NOTE_MAX or out's max;
 * out is unchanged on failure.
 */
int note_sign(const struct note_signer *s, const char *text, size_t len, struct vbuf *out) VT_WUR;

/*
 * Verifies a signed note (len bytes) against n known keys (n <= NOTE_MAX_VERIFIERS). The whole
 * note is parsed strictly first: at most NOTE_MAX bytes (else VT_ERR_TOO_LARGE), UTF-8 without
 * control characters other than '\n', text up to the last blank line, then 1..NOTE_MAX_SIGS
 * well-formed signature lines and nothing else (else VT_ERR_INVALID). Signatures whose name and
 * key id match no known key are ignored. Every signature whose name and key id match a known key
 * must verify (all matching keys, if the caller passed several with the same name and id), and at
 * least one must; otherwise VT_ERR_VERIFY. On success *text_len is the length of the signed text
 * (a prefix of note, ending in '\n'), and, when verified is not NULL, verified[i] is 1 for each
 * key i that signed and 0 for the others. The text means nothing unless this returns 0.
 */
int note_verify(const char *note, size_t len, const struct note_verifier *const *verifiers,
    size_t n, size_t *text_len, uint8_t *verified) VT_WUR;

/*
 * Checkpoint text: "<origin>\n<size>\n<base64(root)>\n" then one "<line>\n" per extension. The
 * origin follows the key name rules (non-empty, at most CHECKPOINT_ORIGIN_MAX bytes, UTF-8, no
 * control character, Unicode space or '+'); extension lines are non-empty UTF-8 without control
 * characters, at most CHECKPOINT_EXT_MAX. Appends to out (unchanged on failure); VT_ERR_INVALID
 * for a bad origin or extension, VT_ERR_TOO_LARGE past NOTE_MAX or out's max.
 */
int checkpoint_format(const char *origin, uint64_t size,
    const uint8_t root[static CHECKPOINT_HASH_LEN], const char *const *ext, size_t n_ext,
    struct vbuf *out) VT_WUR;

/*
 * Parses checkpoint text strictly: the rules above, the size in decimal without leading zeros
 * ("0" for the empty tree) that fits a u64, the root exactly 32 bytes in canonical padded
 * base64, and a final '\n'. out->ext[] point into text. VT_ERR_INVALID otherwise, VT_ERR_TOO_LARGE
 * past NOTE_MAX (out zeroed).
 * This reads unauthenticated text: use checkpoint_open for a signed checkpoint.
 */
int checkpoint_parse(const char *text, size_t len, struct checkpoint *out) VT_WUR;

/*
 * note_verify, then checkpoint_parse of the verified text; out->ext[] point into note. Errors as
 * theirs. The caller still checks that out->origin is the log it expects.
 */
int checkpoint_open(const char *note, size_t len, const struct note_verifier *const *verifiers,
    size_t n, struct checkpoint *out) VT_WUR;

#endif
