/*
 * The recorder (recorder.h, docs/broker.md §"Recording and live scanning"): every output byte
 * goes to a scan stream and into the cast queue (cast.c). Bytes the scanner can no longer put in
 * a finding (scan_stream_safe_orig) are released as asciicast lines into the current chunk,
 * which is sealed and stored final when full or at the end; what is not yet safe is stored as
 * the provisional chunk (known secrets redacted) at most RECORDER_FLUSH_MS after it arrived.
 * Each write is its own short transaction under the org's RLS context: the relay thread never
 * holds one.
 */
#include "broker/recorder.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "base/secmem.h"
#include "broker/cast.h"
#include "crypto/envelope.h"
#include "db/keystore.h"

#define RECORDER_SLICE 16384         /* output fed per step: bounds what is held at once */
#define RECORDER_SEEN_HASH 16        /* bytes of a keyed hash of one exposure */
#define RECORDER_CHUNK_SETTLE (16 * 1024) /* released lines a flush makes final at once */
#define RECORDER_SEEN_MAX (1u << 20) /* distinct exposures remembered (past it: fail closed) */
/*
 * Escape bytes held beyond the scanner's window before the oldest pending output is released
 * masked. Four times the redactor's slack: a colourful full-screen program (one visible byte in
 * ten or more) keeps a 16 KiB window of text stretched over 160 KiB and more of output.
 */
#define RECORDER_HOLD_SLACK (4 * (uint64_t)SCAN_REDACT_ANSI_SLACK)

struct found {
	const char *rule_id;         /* borrowed from the db / fingerprint set */
	const char *label;
	const struct scan_rule *rule;
	enum scan_severity severity;
	uint64_t start, end;
};

/* A chunk write waiting for the writer thread: a copy of the chunk's text (wiped when freed). */
#define RECORDER_QUEUE 4         /* chunk writes in flight per session; the relay waits past it */
struct wjob {
	int seq;
	int final;
	int set_recorded;            /* also mark the session recorded (its first row) */
	struct vbuf *pt;
};

struct recorder {
	struct db_pool *pool;
	struct keyring *kr;
	const struct scan_db *db;
	const struct scan_fpset *fps;  /* the set the stream reads */
	const struct scan_fpset *next; /* recorder_set_fps: to swap in (next_on: pending) */
	int next_on;
	struct vt_uuid org, session;
	int record;
	recorder_exposure_fn on_exposure;
	void *ud;

	struct scan_stream *st;
	struct cast *cast;
	uint64_t hard_window;        /* pending bytes beyond this are released masked */
	int warned_hard;

	struct vbuf *chunk;          /* the current chunk's final lines (plaintext) */
	struct vbuf *prov;           /* scratch: chunk + provisional tail */
	int seq;                     /* the current chunk */
	int row_at_seq;              /* a (provisional) row exists for seq */
	int any_row;                 /* some row was written (terminal_sessions.recorded set) */
	int dirty;                   /* output not yet in the database */
	int64_t dirty_since;
	int64_t now;

	struct found *found;         /* findings of the current feed */
	size_t nfound, capfound;
	int found_err;

	uint8_t hkey[crypto_generichash_KEYBYTES]; /* random per recorder, never stored */
	uint8_t *seen;               /* open addressing table of keyed hashes (0…0 = empty) */
	size_t nseen, capseen;

	uint64_t bytes_out;
	uint32_t exposures;
	int err;                     /* sticky: after a failure every call fails */

	/* The writer thread: seals and stores chunks, so the relay does not wait for PostgreSQL. */
	pthread_t wthr;
	int wstarted;
	pthread_mutex_t wmu;
	pthread_cond_t wcv;
	struct wjob wq[RECORDER_QUEUE];
	int wh, wn;                  /* the queue's head and length */
	int wstop;
	int werr;                    /* the first failed write (sticky) */
};

/* ---- database ---------------------------------------------------------------------------------- */

static int
chunk_write(struct recorder *r, int seq, int final, int set_recorded, const struct vbuf *pt)
{
	struct envelope_ctx ctx;
	struct db_tx *tx = NULL;
	struct db_res *res = NULL;
	struct vbuf *blob = vbuf_new(ENVELOPE_OVERHEAD + ENVELOPE_PLAINTEXT_MAX);
	struct vbuf *packed = vbuf_new(ENVELOPE_PLAINTEXT_MAX);
	struct db_params prm;
	uint32_t kv;
	int rc;

	/*
	 * The relay waits for this: no WAL flush per chunk. PostgreSQL's WAL writer flushes within
	 * 3 × wal_writer_delay (600 ms by default), so a database crash still loses less than the
	 * last second, and a crash of this process loses nothing committed.
	 */
	if ((rc = db_tx_begin_as(r->pool, &r->org, NULL, &tx)) != 0 ||
	    (rc = db_query(tx, "SET LOCAL synchronous_commit = off", NULL, NULL)) != 0 ||
	    (rc = keystore_maybe_sync(tx, r->kr, 0)) != 0)
		goto out;
	memset(&ctx, 0, sizeof(ctx));
	ctx.org = r->org;
	ctx.kind = ENVELOPE_KIND_RECORDING_CHUNK;
	ctx.record = r->session;
	ctx.version = (uint32_t)seq + 1;
	/* Terminal text shrinks several times: less to seal, to write and to keep. */
	if ((rc = cast_chunk_pack(vbuf_ptr(pt), vbuf_len(pt), packed)) != 0 ||
	    (rc = envelope_seal(r->kr, &ctx, vbuf_ptr(packed), vbuf_len(packed), blob)) != 0 ||
	    (rc = envelope_key_version(vbuf_ptr(blob), vbuf_len(blob), &kv)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, &r->org);
	db_param_uuid(&prm, &r->session);
	db_param_int(&prm, seq);
	db_param_bool(&prm, final);
	db_param_int(&prm, kv);
	db_param_bytes(&prm, vbuf_ptr(blob), vbuf_len(blob));
	/* A final chunk is never rewritten. */
	rc = db_query(tx, "INSERT INTO recording_chunks AS c (org_id, session_id, seq, final, "
			  "key_version, envelope) VALUES ($1, $2, $3, $4, $5, $6) "
			  "ON CONFLICT (session_id, seq) DO UPDATE SET final = EXCLUDED.final, "
			  "key_version = EXCLUDED.key_version, envelope = EXCLUDED.envelope, "
			  "written_at = now() WHERE NOT c.final RETURNING 1", &prm, &res);
	db_params_free(&prm);
	if (rc != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		log_error("recording chunk %d of a session is already final; not rewritten", seq);
		rc = VT_ERR_INTERNAL;
		goto out;
	}
	if (set_recorded) {
		db_params_init(&prm);
		db_param_uuid(&prm, &r->session);
		rc = db_exec_one(tx, "UPDATE terminal_sessions SET recorded = true WHERE id = $1",
		    &prm);
		db_params_free(&prm);
		if (rc != 0)
			goto out;
	}
	rc = db_tx_commit(tx);
	tx = NULL;
 out:
	db_res_free(res);
	db_tx_rollback(tx);
	vbuf_free(packed);
	vbuf_free(blob);
	return rc;
}

static void *
writer_main(void *arg)
{
	struct recorder *r = arg;
	struct wjob j;
	int rc;

	pthread_mutex_lock(&r->wmu);
	for (;;) {
		while (r->wn == 0 && !r->wstop)
			pthread_cond_wait(&r->wcv, &r->wmu);
		if (r->wn == 0)
			break;
		j = r->wq[r->wh];
		rc = r->werr;
		pthread_mutex_unlock(&r->wmu);
		/* After a failure nothing more is written: the session is ending anyway. */
		if (rc == 0)
			rc = chunk_write(r, j.seq, j.final, j.set_recorded, j.pt);
		vbuf_free(j.pt);
		pthread_mutex_lock(&r->wmu);
		r->wq[r->wh].pt = NULL;
		r->wh = (r->wh + 1) % RECORDER_QUEUE;
		r->wn--;
		if (rc != 0 && r->werr == 0)
			r->werr = rc;
		pthread_cond_broadcast(&r->wcv);
	}
	pthread_mutex_unlock(&r->wmu);
	return NULL;
}

/*
 * Queues chunk `seq` (a copy of pt) for the writer thread, waiting while RECORDER_QUEUE writes are
 * in flight. A failed earlier write fails this call (and so the session: fail closed).
 */
static int
chunk_store(struct recorder *r, int seq, int final, const struct vbuf *pt)
{
	struct vbuf *copy;
	int rc;

	if (!r->wstarted) {
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		rc = pthread_create(&r->wthr, &attr, writer_main, r);
		pthread_attr_destroy(&attr);
		if (rc != 0)
			return VT_ERR_INTERNAL;
		r->wstarted = 1;
	}
	copy = vbuf_new(ENVELOPE_PLAINTEXT_MAX);
	if ((rc = vbuf_put(copy, vbuf_ptr(pt), vbuf_len(pt))) != 0) {
		vbuf_free(copy);
		return rc;
	}
	pthread_mutex_lock(&r->wmu);
	while (r->wn == RECORDER_QUEUE && r->werr == 0)
		pthread_cond_wait(&r->wcv, &r->wmu);
	if ((rc = r->werr) == 0) {
		struct wjob *j = &r->wq[(r->wh + r->wn) % RECORDER_QUEUE];

		j->seq = seq;
		j->final = final;
		j->set_recorded = !r->any_row;
		j->pt = copy;
		copy = NULL;
		r->wn++;
		pthread_cond_broadcast(&r->wcv);
	}
	pthread_mutex_unlock(&r->wmu);
	vbuf_free(copy);
	if (rc != 0)
		return rc;
	r->any_row = 1;
	r->row_at_seq = !final;
	return 0;
}

/* Waits until every queued write is done; the first failure, or 0. */
static int
chunk_drain(struct recorder *r)
{
	int rc;

	if (!r->wstarted)
		return 0;
	pthread_mutex_lock(&r->wmu);
	while (r->wn > 0)
		pthread_cond_wait(&r->wcv, &r->wmu);
	rc = r->werr;
	pthread_mutex_unlock(&r->wmu);
	return rc;
}

/* Stops the writer thread after the queue is through. */
static void
writer_stop(struct recorder *r)
{
	if (!r->wstarted)
		return;
	pthread_mutex_lock(&r->wmu);
	r->wstop = 1;
	pthread_cond_broadcast(&r->wcv);
	pthread_mutex_unlock(&r->wmu);
	pthread_join(r->wthr, NULL);
	r->wstarted = 0;
}

static int
chunk_delete(struct recorder *r, int seq)
{
	struct db_tx *tx = NULL;
	struct db_params prm;
	int rc;

	if ((rc = db_tx_begin_as(r->pool, &r->org, NULL, &tx)) != 0)
		return rc;
	db_params_init(&prm);
	db_param_uuid(&prm, &r->session);
	db_param_int(&prm, seq);
	rc = db_query(tx, "DELETE FROM recording_chunks WHERE session_id = $1 AND seq = $2 AND "
			  "NOT final", &prm, NULL);
	db_params_free(&prm);
	if (rc == 0) {
		rc = db_tx_commit(tx);
		tx = NULL;
	}
	db_tx_rollback(tx);
	if (rc == 0)
		r->row_at_seq = 0;
	return rc;
}

/* ---- lines, chunks ----------------------------------------------------------------------------- */

static int
chunk_finalize(struct recorder *r)
{
	int rc;

	if ((rc = chunk_store(r, r->seq, 1, r->chunk)) != 0)
		return rc;
	vbuf_reset(r->chunk);
	r->seq++;
	r->row_at_seq = 0;
	return 0;
}

static int
on_line(void *ud, const uint8_t *line, size_t n)
{
	struct recorder *r = ud;
	int rc;

	if (vbuf_len(r->chunk) > 0 && vbuf_len(r->chunk) + n > RECORDING_CHUNK_MAX &&
	    (rc = chunk_finalize(r)) != 0) {
		r->err = rc;
		return 1;
	}
	if ((rc = vbuf_put(r->chunk, line, n)) != 0) {
		r->err = rc;
		return 1;
	}
	if (!r->dirty) {
		r->dirty = 1;
		r->dirty_since = r->now;
	}
	return 0;
}

/* ---- exposures --------------------------------------------------------------------------------- */

static int
on_match(void *ud, const struct scan_match *m)
{
	struct recorder *r = ud;
	struct found *f;

	if (r->nfound == r->capfound) {
		size_t nc = r->capfound < 16 ? 16 : r->capfound * 2;
		void *p = realloc(r->found, nc * sizeof(*r->found));

		if (p == NULL) {
			r->found_err = VT_ERR_NOMEM;
			return 1; /* the stream stops: the recorder fails closed below */
		}
		r->found = p;
		r->capfound = nc;
	}
	f = &r->found[r->nfound++];
	f->rule_id = m->rule_id;
	f->label = m->label;
	f->rule = m->rule;
	f->severity = m->severity;
	f->start = m->start;
	f->end = m->end;
	return 0;
}

/* 1 if h was not seen before (and remembers it), 0 if it was; negative on error. */
static int
seen_add(struct recorder *r, const uint8_t h[static RECORDER_SEEN_HASH])
{
	static const uint8_t zero[RECORDER_SEEN_HASH];
	size_t i, mask;
	uint64_t k;

	if (2 * (r->nseen + 1) > r->capseen) {
		size_t nc = r->capseen < 64 ? 64 : 2 * r->capseen, j;
		uint8_t *t;

		if (r->nseen >= RECORDER_SEEN_MAX)
			return VT_ERR_TOO_LARGE;
		if ((t = calloc(nc, RECORDER_SEEN_HASH)) == NULL)
			return VT_ERR_NOMEM;
		for (j = 0; j < r->capseen; j++) {
			const uint8_t *o = r->seen + j * RECORDER_SEEN_HASH;

			if (sodium_memcmp(o, zero, RECORDER_SEEN_HASH) == 0)
				continue;
			memcpy(&k, o, sizeof(k));
			for (i = k & (nc - 1); sodium_memcmp(t + i * RECORDER_SEEN_HASH, zero,
			    RECORDER_SEEN_HASH) != 0; i = (i + 1) & (nc - 1))
				;
			memcpy(t + i * RECORDER_SEEN_HASH, o, RECORDER_SEEN_HASH);
		}
		if (r->seen != NULL) {
			sodium_memzero(r->seen, r->capseen * RECORDER_SEEN_HASH);
			free(r->seen);
		}
		r->seen = t;
		r->capseen = nc;
	}
	mask = r->capseen - 1;
	memcpy(&k, h, sizeof(k));
	for (i = k & mask;; i = (i + 1) & mask) {
		uint8_t *s = r->seen + i * RECORDER_SEEN_HASH;

		if (sodium_memcmp(s, zero, RECORDER_SEEN_HASH) == 0) {
			memcpy(s, h, RECORDER_SEEN_HASH);
			r->nseen++;
			return 1;
		}
		if (sodium_memcmp(s, h, RECORDER_SEEN_HASH) == 0)
			return 0;
	}
}

/*
 * What makes an exposure distinct (keyed: the table holds no value): a fingerprint's secret (the
 * label up to '/'), and the value's bytes whichever detector found them, so a stored password
 * that a rule also recognizes ("password = ...") is one exposure, not two. The all-zero hash
 * marks an empty slot.
 */
static void
exposure_key(const struct recorder *r, const char *label, const uint8_t *val, size_t n,
    uint64_t start, uint8_t h[static RECORDER_SEEN_HASH])
{
	crypto_generichash_state gs;
	const char *slash;

	crypto_generichash_init(&gs, r->hkey, sizeof(r->hkey), RECORDER_SEEN_HASH);
	if (label != NULL) {
		slash = strchr(label, '/');
		crypto_generichash_update(&gs, (const uint8_t *)"fp", 3);
		crypto_generichash_update(&gs, (const uint8_t *)label,
		    slash != NULL ? (size_t)(slash - label) : strlen(label));
	} else if (val != NULL) {
		crypto_generichash_update(&gs, (const uint8_t *)"value", 6);
		crypto_generichash_update(&gs, val, n);
	} else {
		/* The bytes were released masked already: distinct by position. */
		crypto_generichash_update(&gs, (const uint8_t *)"at", 3);
		crypto_generichash_update(&gs, (const uint8_t *)&start, sizeof(start));
	}
	crypto_generichash_final(&gs, h, RECORDER_SEEN_HASH);
	if (sodium_is_zero(h, RECORDER_SEEN_HASH))
		h[0] = 1;
	sodium_memzero(&gs, sizeof(gs));
}

/* 1 if the finding is a new exposure (its keys are remembered either way); negative on error. */
static int
exposure_new(struct recorder *r, const struct found *f)
{
	uint8_t h[RECORDER_SEEN_HASH];
	const uint8_t *val;
	size_t n = (size_t)(f->end - f->start);
	int a = 0, b;

	/*
	 * The bytes of a finding are still held when it is reported: it starts at or after the
	 * scanner's safe offset of the previous feed, and nothing past that was released (unless
	 * the hard window forced it out, masked).
	 */
	val = cast_bytes(r->cast, f->start, f->end);
	if (f->label != NULL) {
		exposure_key(r, f->label, NULL, 0, f->start, h);
		if ((a = seen_add(r, h)) < 0)
			goto out;
	}
	exposure_key(r, NULL, val, n, f->start, h);
	if ((b = seen_add(r, h)) < 0) {
		a = b;
		goto out;
	}
	/* A fingerprint: new if its secret is; a rule: new if its value is. */
	a = f->label != NULL ? a : b;
 out:
	sodium_memzero(h, sizeof(h));
	return a;
}

static int
found_cmp(const void *pa, const void *pb)
{
	const struct found *a = pa, *b = pb;

	/* Fingerprints first: a value found by both is reported as the vault secret it is. */
	if ((a->label != NULL) != (b->label != NULL))
		return a->label != NULL ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

static int
findings_process(struct recorder *r)
{
	struct scan_match m;
	size_t i;
	int rc, isnew;

	if (r->found_err != 0)
		return r->found_err;
	if (r->nfound > 1)
		qsort(r->found, r->nfound, sizeof(*r->found), found_cmp);
	for (i = 0; i < r->nfound; i++) {
		const struct found *f = &r->found[i];

		if ((isnew = exposure_new(r, f)) < 0)
			return isnew;
		if ((rc = cast_redact(r->cast, f->start, f->end, f->rule_id)) != 0)
			return rc;
		if (!isnew)
			continue;
		r->exposures++;
		memset(&m, 0, sizeof(m));
		m.rule = f->rule;
		m.rule_id = f->rule_id;
		m.severity = f->severity;
		m.start = f->start;
		m.end = f->end;
		m.label = f->label;
		if (r->on_exposure != NULL && (rc = r->on_exposure(r->ud, &m)) != 0)
			return rc < 0 ? rc : VT_ERR_INTERNAL;
	}
	r->nfound = 0;
	return 0;
}

/* Releases what the scanner says is safe; past the hard window, the oldest bytes masked. */
static int
release(struct recorder *r)
{
	uint64_t safe = scan_stream_safe_orig(r->st), end = cast_end(r->cast), hard;
	int rc;

	hard = end > r->hard_window ? end - r->hard_window : 0;
	if (hard > safe) {
		if (!r->warned_hard) {
			log_warn("session output held past the scanner's window (%llu bytes): the "
				 "oldest bytes are recorded masked",
			    (unsigned long long)r->hard_window);
			r->warned_hard = 1;
		}
		if ((rc = cast_redact(r->cast, cast_released(r->cast), hard, NULL)) != 0)
			return rc;
		safe = hard;
	}
	/* Not recorded: the bytes were scanned, they are dropped without being encoded. */
	rc = cast_release(r->cast, safe, r->record ? on_line : NULL, r);
	if (rc != 0 && r->err != 0)
		return r->err;
	return rc;
}

/* ---- the API ---------------------------------------------------------------------------------- */

/* A set given to recorder_set_fps goes into the scan as soon as the stream allows. */
static int
fps_swap(struct recorder *r)
{
	uint64_t hw;
	int rc;

	if (!r->next_on)
		return 0;
	if ((rc = scan_stream_swap_fps(r->st, r->next)) <= 0)
		return rc; /* 0: values of the old set are pending; after a later feed */
	r->fps = r->next;
	r->next = NULL;
	r->next_on = 0;
	hw = (uint64_t)scan_stream_window(r->db, r->fps) + RECORDER_HOLD_SLACK;
	if (hw > r->hard_window)
		r->hard_window = hw;
	return 0;
}

static void
recorder_free(struct recorder *r)
{
	if (r == NULL)
		return;
	writer_stop(r);
	pthread_mutex_destroy(&r->wmu);
	pthread_cond_destroy(&r->wcv);
	(void)scan_stream_close(r->st, NULL, NULL);
	cast_free(r->cast);
	vbuf_free(r->chunk);
	vbuf_free(r->prov);
	free(r->found);
	if (r->seen != NULL) {
		sodium_memzero(r->seen, r->capseen * RECORDER_SEEN_HASH);
		free(r->seen);
	}
	sodium_memzero(r, sizeof(*r));
	free(r);
}

static int
size_ok(int v)
{
	return v >= 1 && v <= 10000;
}

int
recorder_open(struct db_pool *pool, struct keyring *kr, const struct scan_db *db,
    const struct scan_fpset *fps, const struct recorder_params *prm, struct recorder **out)
{
	struct recorder *r;
	int rc;

	*out = NULL;
	if (prm == NULL || prm->org == NULL || prm->session == NULL || db == NULL ||
	    (prm->record && (pool == NULL || kr == NULL)))
		return VT_ERR_INVALID;
	r = xcalloc(1, sizeof(*r));
	r->pool = pool;
	r->kr = kr;
	r->db = db;
	r->fps = fps;
	r->org = *prm->org;
	r->session = *prm->session;
	r->record = prm->record != 0;
	r->on_exposure = prm->on_exposure;
	r->ud = prm->ud;
	r->now = prm->start_us;
	pthread_mutex_init(&r->wmu, NULL);
	pthread_cond_init(&r->wcv, NULL);
	randombytes_buf(r->hkey, sizeof(r->hkey));
	if ((rc = scan_stream_open(db, fps, &r->st)) != 0)
		goto fail;
	r->hard_window = (uint64_t)scan_stream_window(db, fps) + RECORDER_HOLD_SLACK;
	r->cast = cast_new(prm->start_us);
	r->chunk = vbuf_new(ENVELOPE_PLAINTEXT_MAX);
	r->prov = vbuf_new(ENVELOPE_PLAINTEXT_MAX);
	/* A size a client made up (0, or absurd) is not a reason to refuse the session. */
	if (r->record && (rc = cast_header(size_ok(prm->width) ? prm->width : 80,
	    size_ok(prm->height) ? prm->height : 24, prm->start_us, prm->term, prm->title,
	    r->chunk)) != 0)
		goto fail;
	*out = r;
	return 0;
 fail:
	recorder_free(r);
	return rc;
}

static int
tick(struct recorder *r, int64_t now)
{
	int rc;

	r->now = now;
	if (!r->record || !r->dirty || r->bytes_out == 0 ||
	    now < r->dirty_since + (int64_t)RECORDER_FLUSH_MS * 1000)
		return 0;
	/*
	 * Released lines past RECORDER_CHUNK_SETTLE go final now, so a slow trickle of output does
	 * not rewrite a growing chunk every second; the provisional row then holds the rest.
	 */
	if (vbuf_len(r->chunk) >= RECORDER_CHUNK_SETTLE && (rc = chunk_finalize(r)) != 0)
		return rc;
	vbuf_reset(r->prov);
	if ((rc = vbuf_put(r->prov, vbuf_ptr(r->chunk), vbuf_len(r->chunk))) != 0 ||
	    (rc = cast_preview(r->cast, scan_stream_safe_orig(r->st), r->prov)) != 0)
		return rc;
	if (vbuf_len(r->prov) > 0 && (rc = chunk_store(r, r->seq, 0, r->prov)) != 0)
		return rc;
	vbuf_reset(r->prov);
	r->dirty = 0;
	return 0;
}

int
recorder_output(struct recorder *r, int64_t t_us, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t k;
	int rc;

	if (r->err != 0)
		return r->err;
	r->now = t_us;
	if ((rc = fps_swap(r)) != 0)
		goto fail;
	while (n > 0) {
		k = n < RECORDER_SLICE ? n : RECORDER_SLICE;
		if ((rc = cast_output(r->cast, t_us, p, k)) != 0)
			goto fail;
		r->bytes_out += k;
		if (r->record && !r->dirty) {
			r->dirty = 1;
			r->dirty_since = t_us;
		}
		if ((rc = scan_stream_feed(r->st, p, k, on_match, r)) != 0 ||
		    (rc = findings_process(r)) != 0 || (rc = release(r)) != 0)
			goto fail;
		p += k;
		n -= k;
	}
	if ((rc = tick(r, t_us)) != 0)
		goto fail;
	return 0;
 fail:
	r->err = rc;
	return rc;
}

int
recorder_resize(struct recorder *r, int64_t t_us, int width, int height)
{
	int rc;

	if (r->err != 0)
		return r->err;
	r->now = t_us;
	if (!size_ok(width) || !size_ok(height))
		return 0; /* a size a client made up: not recorded, not a failure */
	if ((rc = cast_resize(r->cast, t_us, width, height)) != 0 || (rc = release(r)) != 0 ||
	    (rc = tick(r, t_us)) != 0)
		r->err = rc;
	return rc;
}

int
recorder_tick(struct recorder *r, int64_t now_us)
{
	int rc;

	if (r->err != 0)
		return r->err;
	if ((rc = fps_swap(r)) != 0 || (rc = tick(r, now_us)) != 0)
		r->err = rc;
	return rc;
}

void
recorder_set_fps(struct recorder *r, const struct scan_fpset *fps)
{
	r->next = fps;
	r->next_on = fps != r->fps;
}

const struct scan_fpset *
recorder_fps(const struct recorder *r)
{
	return r->fps;
}

int64_t
recorder_deadline(const struct recorder *r)
{
	if (r->err != 0 || !r->record || !r->dirty || r->bytes_out == 0)
		return INT64_MAX;
	return r->dirty_since + (int64_t)RECORDER_FLUSH_MS * 1000;
}

size_t
recorder_memory(const struct recorder *r)
{
	return sizeof(*r) + scan_stream_memory(r->st) + cast_memory(r->cast) +
	    vbuf_len(r->chunk) + r->capseen * RECORDER_SEEN_HASH + r->capfound * sizeof(*r->found);
}

int
recorder_close(struct recorder *r, int64_t t_us, struct recorder_stats *st)
{
	int rc = 0;

	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (r == NULL)
		return 0;
	r->now = t_us;
	if ((rc = r->err) != 0)
		goto out;
	rc = scan_stream_close(r->st, on_match, r);
	r->st = NULL;
	if (rc != 0 || (rc = findings_process(r)) != 0)
		goto out;
	if ((rc = cast_finish(r->cast, r->record ? on_line : NULL, r)) != 0) {
		if (r->err != 0)
			rc = r->err;
		goto out;
	}
	if (r->record && r->bytes_out > 0) {
		/* The last chunk (chunk 0 holds at least the header). */
		if (vbuf_len(r->chunk) > 0)
			rc = chunk_store(r, r->seq, 1, r->chunk);
		if (rc == 0)
			rc = chunk_drain(r);
		if (rc == 0 && vbuf_len(r->chunk) == 0 && r->row_at_seq)
			rc = chunk_delete(r, r->seq);
	}
	if (rc == 0)
		rc = chunk_drain(r); /* a session without output may still have queued nothing */
 out:
	if (st != NULL) {
		st->bytes_out = r->bytes_out;
		st->exposures = r->exposures;
		st->recorded = r->any_row && rc == 0;
	}
	recorder_free(r);
	return rc;
}
