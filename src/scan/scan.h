/*
 * The exposure scanner (ARCHITECTURE.md §10, docs/scanner.md): finds credentials in a byte
 * stream — terminal output, a file, a request body — as it flows, without holding the plaintext
 * of any stored secret.
 *
 *  - Rules: our own credential formats (src/scan/rules.c), compiled into ONE Vectorscan
 *    streaming database shared read-only by every thread. A match split across any number of
 *    feeds is found exactly once.
 *  - Vault fingerprints: keyed hashes of the org's stored secret values (never the values):
 *    candidate tokens of the output are looked up by a 64-bit SipHash and confirmed with
 *    HMAC-SHA256, both under keys derived from the org's scanner key.
 *  - ANSI escape sequences (CSI, OSC, and two-byte ESC sequences) are removed before matching, so
 *    colour codes cannot hide a secret; offsets are still reported in the ORIGINAL stream.
 *  - Redaction: replace each match by "[REDACTED:<rule_id>]" (or '*' × its length for live
 *    terminals), on a buffer or on the stream with a bounded hold-back, so a secret spanning
 *    chunks is masked before any of it is released.
 *
 * Threading: a scan_db and a scan_fpset are immutable once built and may be shared by any number
 * of threads; a scan_stream belongs to one thread at a time.
 */
#ifndef VT_SCAN_SCAN_H
#define VT_SCAN_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "base/vbuf.h"

#define SCAN_ERR_MAX 256
#define SCAN_RULE_ID_MAX 64
#define SCAN_FP_MIN_LEN 8           /* shortest token / value looked up as a fingerprint */
#define SCAN_FP_MAX_LEN 4096        /* longest value fingerprinted whole */
#define SCAN_FP_LABEL_MAX 128       /* "<secret uuid>/<field>" */
#define SCAN_FP_KEYS_LEN 48         /* SipHash key (16) ‖ HMAC key (32) */
#define SCAN_RULE_VAULT "vault-secret" /* rule_id of a fingerprint match */
#define SCAN_RULES_MAX 4096         /* rules in one database */
#define SCAN_RULE_MAX_LEN 65536     /* largest max_len of a rule */
#define SCAN_REDACT_ANSI_SLACK 65536 /* escape bytes a redactor holds beyond its window */

enum scan_severity {
	SCAN_SEV_LOW,
	SCAN_SEV_MEDIUM,
	SCAN_SEV_HIGH,
	SCAN_SEV_CRITICAL,
};

/*
 * One rule (src/scan/rules.c). pattern uses Vectorscan's syntax (no back-references, no
 * look-around). validate, when set, gets the whole match (bytes with ANSI removed) and decides:
 * 1 to report it, with *off and *len the secret inside the match (what is reported and redacted);
 * 0 to drop it (too little entropy, a placeholder, a bad checksum, an allowlisted example).
 * Without validate the whole match is the secret.
 */
struct scan_rule {
	const char *id;                  /* stable, lower-case kebab, e.g. "aws-access-key-id" */
	const char *description;
	enum scan_severity severity;
	const char *pattern;
	unsigned int hs_flags;           /* extra HS_FLAG_* (e.g. HS_FLAG_CASELESS) */
	unsigned int max_len;            /* longest possible match in bytes (the look-back bound) */
	int (*validate)(const uint8_t *m, size_t n, size_t *off, size_t *len);
	const char *const *positives;    /* NULL-terminated: each is found exactly once */
	const char *const *negatives;    /* NULL-terminated: none is found */
};

extern const struct scan_rule SCAN_RULES[];
extern const size_t SCAN_RULES_COUNT;

const char *scan_severity_str(enum scan_severity s);

/* A finding. Offsets count bytes of the ORIGINAL stream (ANSI sequences included). */
struct scan_match {
	const struct scan_rule *rule;    /* NULL for a vault fingerprint */
	const char *rule_id;             /* rule->id, or SCAN_RULE_VAULT */
	enum scan_severity severity;     /* SCAN_SEV_CRITICAL for a fingerprint */
	uint64_t start, end;             /* [start, end) */
	const char *label;               /* fingerprint: the label it was added with; else NULL */
};

/*
 * Called once per finding. Order: by the offset at which the finding became certain (a rule
 * match once no longer match from its start can come, i.e. start + max_len bytes into the
 * stream or its end; a fingerprint once the value and the delimiter after its anchor are in),
 * then rule before fingerprint, rule order, label, start, end; a finding is handed out once the
 * stream is a byte past that offset (or at the close). That order is the same however the stream
 * is cut into feeds. m and its strings are borrowed for the call (rule_id and label live
 * as long as the database / fingerprint set). Return nonzero to stop: the stream then ignores
 * further input and reports nothing more (feed and close still return 0).
 */
typedef int (*scan_match_fn)(void *ud, const struct scan_match *m);

/* ---- the compiled rules ----------------------------------------------------------------- */
struct scan_db;
/*
 * Compiles SCAN_RULES (Vectorscan's part comes from the build when the executable links it:
 * scan_db_prebuilt); VT_ERR_INTERNAL with Vectorscan's message in err if a rule is bad.
 */
int scan_db_open(struct scan_db **out, char err[static SCAN_ERR_MAX]) VT_WUR;
/*
 * Compiles rules[0 .. n) (borrowed: they must outlive the database); n may be 0 (fingerprints
 * only). Besides a pattern Vectorscan rejects, a rule is refused (VT_ERR_INTERNAL, the rule id and
 * the reason in err) when its max_len is 0, above SCAN_RULE_MAX_LEN or below the pattern's
 * longest possible match, when the pattern can match the empty string, or when hs_flags holds
 * anything but CASELESS, DOTALL, MULTILINE, UTF8 or UCP. A pattern without an upper bound
 * ("\\S{8,}") is accepted: max_len then caps how far back a match may start.
 */
int scan_db_open_rules(const struct scan_rule *rules, size_t n, struct scan_db **out,
    char err[static SCAN_ERR_MAX]) VT_WUR;
void scan_db_free(struct scan_db *db);
/*
 * 1 if db's Vectorscan database is the one compiled at build time (the built-in rules, when the
 * executable links it and it was compiled from exactly the same patterns for this platform and
 * this Vectorscan), 0 if it was compiled when opened.
 */
int scan_db_prebuilt(const struct scan_db *db);
/* The rules compiled into db, in order (for listings, tests, the bench). */
size_t scan_db_rule_count(const struct scan_db *db);
const struct scan_rule *scan_db_rule(const struct scan_db *db, size_t i);
/*
 * Bytes of per-stream state without fingerprints (Vectorscan's stream, our window of the last
 * max_len filtered bytes plus one block, per-rule state), for docs and the bench. A stream with
 * fingerprints keeps at least SCAN_FP_MAX_LEN bytes of window; scan_stream_memory() tells.
 */
size_t scan_db_stream_size(const struct scan_db *db);

/* ---- vault fingerprints ------------------------------------------------------------------ */
/*
 * What is stored for one value: never the value. anchor_sip is the SipHash-2-4 (keys[0..16)) of
 * the value's longest token (the value cut at the scanner's delimiters; ties: the first), which
 * starts anchor_off bytes into the value; mac is HMAC-SHA256 (keys[16..48)) of the whole value of
 * len bytes. A value without delimiters is its own anchor (anchor_off 0, token = value).
 */
struct scan_fp {
	uint64_t anchor_sip;
	uint32_t anchor_off;
	uint32_t len;
	uint8_t mac[32];
};
/*
 * Fingerprints of one field value: of the value and of its whitespace-trimmed form (one entry
 * when they are equal). Values (or trimmed forms) shorter than SCAN_FP_MIN_LEN, longer than
 * SCAN_FP_MAX_LEN, or whose longest token is shorter than SCAN_FP_MIN_LEN give no entry.
 */
int scan_fp_compute(const uint8_t keys[static SCAN_FP_KEYS_LEN], const void *value, size_t n,
    struct scan_fp out[static 2], size_t *nout) VT_WUR;

struct scan_fpset;
int scan_fpset_new(const uint8_t keys[static SCAN_FP_KEYS_LEN], struct scan_fpset **out) VT_WUR;
/* Adds a stored fingerprint with a label (copied, at most SCAN_FP_LABEL_MAX bytes). */
int scan_fpset_add(struct scan_fpset *s, const struct scan_fp *fp, const char *label) VT_WUR;
size_t scan_fpset_count(const struct scan_fpset *s);
size_t scan_fpset_memory(const struct scan_fpset *s);
void scan_fpset_free(struct scan_fpset *s); /* wipes the keys */

/* ---- streams ------------------------------------------------------------------------------ */
struct scan_stream;
/* fps may be NULL (rules only). db and fps are borrowed and must outlive the stream. */
int scan_stream_open(const struct scan_db *db, const struct scan_fpset *fps,
    struct scan_stream **out) VT_WUR;
/*
 * Replaces the stream's fingerprint set (NULL: none) for the output fed from now on, so a long
 * stream (a broker session) follows the org's secrets as they change. Nothing of the old set is
 * read after a swap that returned 1: the caller may then free it (until then both must live).
 * Done only when no value of the old set is pending (its anchor token seen, its last bytes or
 * the delimiter after the anchor not yet): pending values are decided with the set that found
 * them, within SCAN_FP_MAX_LEN bytes of more output. Labels of values reported in the last
 * SCAN_FP_MAX_LEN bytes (they dedupe a value and its trimmed form) and of findings not handed out
 * yet are copied into the stream: such a finding's label then lives until the next swap or the
 * close, not as long as the old set. Also refused (0) while the stream had no set, or an empty
 * one, and the token in progress started before its window with its length unknown (only with
 * rules whose look-back is below SCAN_FP_MAX_LEN: until the next delimiter).
 * Returns 1 when swapped (or fps is the current set), 0 when not now (try again after a later
 * feed; the stream is unchanged), VT_ERR_NOMEM. Never blocks.
 *
 * What is found: a value is looked up in the set in force when its anchor token ends (the
 * delimiter after it is fed, or the close). So values of the new set are found in output fed
 * after the swap, and in a value spanning the swap point whose anchor ends after it; values of
 * the old set whose anchor ended before the swap were pending then, which the precondition
 * excludes, so they are all decided with the old set. A value of the new set whose anchor token
 * ended before the swap is not looked up again (it was output before the swap), and neither is
 * one starting in bytes the stream already deemed safe while it had no set (scan_stream_safe_orig
 * never moves back). Findings stay in order and cut-independent within each side of the swap.
 */
int scan_stream_swap_fps(struct scan_stream *s, const struct scan_fpset *fps) VT_WUR;
/* Feeds n bytes (any size, including 0); findings complete so far go to fn. */
int scan_stream_feed(struct scan_stream *s, const void *data, size_t n, scan_match_fn fn,
    void *ud) VT_WUR;
/* Ends the stream (findings that needed its end go to fn) and frees it; NULL-safe. */
int scan_stream_close(struct scan_stream *s, scan_match_fn fn, void *ud);

/* What one open stream holds right now, in bytes (grows only with pathological input). */
size_t scan_stream_memory(const struct scan_stream *s);

/*
 * The lowest ORIGINAL offset at which a finding not yet reported may start: bytes before it can
 * no longer be part of a finding and may be released (the redactor and the broker's recorder do).
 * Valid after a feed returned. Escape sequences stretch it: it may lag the newest byte by more
 * than the window (in original bytes).
 */
uint64_t scan_stream_safe_orig(const struct scan_stream *s);
/* The look-back (in stripped bytes) a stream keeps: max over rules' max_len and fingerprints. */
size_t scan_stream_window(const struct scan_db *db, const struct scan_fpset *fps);

/* One-shot: the whole buffer as one stream. */
int scan_buffer(const struct scan_db *db, const struct scan_fpset *fps, const void *data,
    size_t n, scan_match_fn fn, void *ud) VT_WUR;

/* ---- redaction ---------------------------------------------------------------------------- */
enum scan_redact_mode {
	SCAN_REDACT_LABEL, /* "[REDACTED:<rule_id>]" */
	SCAN_REDACT_MASK,  /* '*' for every visible byte (escape sequences and CR/LF kept): the same
	                      length, for live terminals */
};
/* in with matches m[0 .. nm) (any order, may overlap) replaced, into out. */
int scan_redact_buffer(const void *in, size_t n, const struct scan_match *m, size_t nm,
    enum scan_redact_mode mode, struct vbuf *out) VT_WUR;

/*
 * A redacting stream: feed input, receive output that is safe to release; at most
 * scan_redactor_holdback() bytes are held back until the stream can tell they are not part of
 * a secret. Findings also go to fn (may be NULL); its return value does not stop redaction.
 * The hold-back is the engine's window (max over rules' max_len, and SCAN_FP_MAX_LEN with
 * fingerprints) plus SCAN_REDACT_ANSI_SLACK bytes of escape sequences inside it; past that, the
 * oldest bytes are released with every byte masked (fail closed).
 * XXX: a quiet interactive stream keeps its last bytes held until more output or the close.
 */
struct scan_redactor;
int scan_redactor_open(const struct scan_db *db, const struct scan_fpset *fps,
    enum scan_redact_mode mode, struct scan_redactor **out) VT_WUR;
size_t scan_redactor_holdback(const struct scan_redactor *r);
int scan_redactor_feed(struct scan_redactor *r, const void *data, size_t n, struct vbuf *out,
    scan_match_fn fn, void *ud) VT_WUR;
/* Releases the rest into out and frees; NULL-safe. */
int scan_redactor_close(struct scan_redactor *r, struct vbuf *out, scan_match_fn fn, void *ud);

#endif
