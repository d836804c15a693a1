/*
 * The output side of a brokered session (docs/broker.md §recording): every byte the target sends
 * (stdout and stderr) goes through the exposure scanner with the org's vault fingerprints, and,
 * when the org records, into an asciicast v2 recording stored as envelope-encrypted chunks
 * (recording_chunks, kind "recording_chunk", record = session id, version = seq + 1) with every
 * detected secret replaced by "[REDACTED:<rule_id>]".
 *
 * Timing: events keep the time their bytes arrived. Bytes are written for good ("final" chunk)
 * once no secret can still start in them (below scan_stream_safe_orig, or the session ended);
 * until then they sit in a provisional chunk rewritten at most RECORDER_FLUSH_MS after they
 * arrived, so a crash loses at most the last second and a detected secret is never in a final
 * chunk. Bytes held past the scanner's window plus 4 x SCAN_REDACT_ANSI_SLACK (only
 * escape-heavy output gets there) are written masked ('*'), never in clear unscanned. Scanning
 * runs whether or not the session is recorded. An exposure is one per stored secret
 * (fingerprint label) or per value (a rule's match; a value both a rule and a fingerprint find
 * is one exposure, reported as the fingerprint's when they come together).
 *
 * A recorder belongs to one thread (the session's). It writes chunks in its own short
 * transactions under the org's RLS context.
 */
#ifndef VT_BROKER_RECORDER_H
#define VT_BROKER_RECORDER_H

#include <stdint.h>

#include <jansson.h>

#include "auth/principal.h"
#include "base/util.h"
#include "base/vbuf.h"
#include "crypto/keyring.h"
#include "db/db.h"
#include "scan/scan.h"

#define RECORDER_FLUSH_MS 1000      /* provisional data reaches the database at least this often */
#define RECORDING_CHUNK_MAX (256 * 1024) /* final lines of one chunk, at most (or one line) */
#define RECORDING_MAX ((size_t)1 << 30)  /* largest recording served by recording_read */

/*
 * Called once per distinct exposed secret per session (a fingerprint: per label's secret; a rule
 * match: per value), from inside recorder_output/recorder_close. The match offsets count output
 * bytes of the session. Returning nonzero makes the calling recorder function fail, and every
 * later call (the session then ends: the exposure could not be audited).
 */
typedef int (*recorder_exposure_fn)(void *ud, const struct scan_match *m);

struct recorder_params {
	const struct vt_uuid *org;
	const struct vt_uuid *session;
	int record;                 /* 0: scan only */
	int width, height;          /* the PTY size (80x24 without one, or outside 1..10000) */
	const char *term;           /* TERM, or NULL */
	const char *title;          /* header title, e.g. "<profile> (<user>)"; may be NULL */
	int64_t start_us;           /* Unix time of the session start (µs) */
	recorder_exposure_fn on_exposure;
	void *ud;
};

struct recorder_stats {
	uint64_t bytes_out;         /* output bytes seen */
	uint32_t exposures;         /* distinct exposures reported */
	int recorded;               /* 1 if a recording is stored (0 for an empty session) */
};

struct recorder;
/*
 * pool, kr, db and fps (may be NULL: rules only) are borrowed and must outlive the recorder, or
 * until recorder_fps no longer returns it (recorder_set_fps) (pool
 * and kr may be NULL when record is 0). Its first chunk also sets terminal_sessions.recorded.
 */
int recorder_open(struct db_pool *pool, struct keyring *kr, const struct scan_db *db,
    const struct scan_fpset *fps, const struct recorder_params *prm, struct recorder **out) VT_WUR;
/*
 * Scans the output from now on with fps (may be NULL; borrowed) instead of the set given so far:
 * for secrets stored or rotated while the session runs. The scanner takes it at the start of the
 * first recorder_output or recorder_tick at which nothing it holds points into the current set
 * (scan_stream_swap_fps: within SCAN_FP_MAX_LEN bytes of output); recorder_fps tells when. Until
 * then the recorder still reads the current set, which must live; after, it never reads it again.
 * A later call replaces a set not yet taken (which is then never read). Exposures stay one per
 * secret per session across sets (they key on the label's secret id).
 */
void recorder_set_fps(struct recorder *r, const struct scan_fpset *fps);
/* The set the scanner reads now. */
const struct scan_fpset *recorder_fps(const struct recorder *r);
/* Output from the target at Unix time t_us (monotonic per recorder). */
int recorder_output(struct recorder *r, int64_t t_us, const void *data, size_t n) VT_WUR;
/* A window change ("r" event); a size outside 1..10000 is ignored (not an error). */
int recorder_resize(struct recorder *r, int64_t t_us, int width, int height) VT_WUR;
/* Called from the relay loop at least every RECORDER_FLUSH_MS: writes what is due. */
int recorder_tick(struct recorder *r, int64_t now_us) VT_WUR;
/* Next time (Unix µs) recorder_tick has something to do, or INT64_MAX. */
int64_t recorder_deadline(const struct recorder *r);
/*
 * Ends the scan (reporting what needed the end), writes the rest as final, deletes a recording
 * that holds no output (empty sessions are not stored), fills *st, frees. NULL-safe. On error the
 * recorder is still freed.
 */
int recorder_close(struct recorder *r, int64_t t_us, struct recorder_stats *st);
/* Bytes this recorder holds now (for the per-session memory figure). */
size_t recorder_memory(const struct recorder *r);

/* --- reading (sessions.c) -------------------------------------------------------------------- */

/*
 * The asciicast v2 text of session `id` (transaction's org), chunks opened and concatenated in
 * seq order (a provisional tail included), appended to out. VT_ERR_NOT_FOUND when the session has
 * no recording; VT_ERR_CRYPTO when a chunk does not open or one is missing (nothing partial is
 * served); VT_ERR_TOO_LARGE past RECORDING_MAX.
 */
int recording_read(struct db_tx *tx, struct keyring *kr, const struct vt_uuid *id,
    struct vbuf *out) VT_WUR;

/*
 * GET /api/terminal/sessions[?limit&cursor] → {items:[{id, profile_id, profile_name, user_id,
 * token_id, kind, command, started_at, ended_at, bytes_out, bytes_in, exit_status, recorded,
 * exposures, end_reason}], next_cursor}, newest first: members see their own sessions; org admins
 * and owners (or tokens with audit:read) see all; other tokens VT_ERR_FORBIDDEN. A cursor that is
 * not one this function made is VT_ERR_VALIDATION.
 */
int terminal_session_list(struct db_tx *tx, const struct principal *p, int limit,
    const char *cursor, json_t **out) VT_WUR;
/* Whether the principal may read session `id` (its own, or an admin's view): 0 or
 * VT_ERR_NOT_FOUND. */
int terminal_session_access(struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id) VT_WUR;

#endif
