/*
 * The audit sequencer thread (sequencer.h).
 */
#include "audit/sequencer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "audit/audit.h"
#include "audit/bundle.h"
#include "audit/chain.h"
#include "audit/counter.h"
#include "audit/export.h"
#include "audit/merkle.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/secmem.h"
#include "base/vtime.h"
#include "crypto/hash.h"
#include "crypto/note.h"
#include "db/db.h"

#define VERIFY_ORGS_PER_PASS 16
#define VERIFY_RECENT 8 /* checkpoint ranges re-checked on every pass */
#define VERIFY_FULL_EVERY 12 /* passes between two whole-log checks (one org each) */
/* The halt time as the ack MAC covers it: microseconds since the epoch, whatever the TimeZone. */
#define HALT_AT_TEXT "(extract(epoch FROM halt_at) * 1000000)::bigint::text"

/* One org's log during a cycle. */
struct org_work {
	struct vt_uuid org;
	struct merkle_frontier f;
	uint64_t old_size;       /* size before this cycle (the state row's) */
	int has_state;
	uint64_t cp_size;
	int has_cp_hash;
	uint8_t cp_hash[HASH_SHA256_LEN];
	int64_t unsealed_since_us; /* 0: nothing unsealed before this cycle */
	int64_t cp_time_s;       /* time line of the newest checkpoint */
	struct vbuf *ids;        /* "{uuid,uuid,...}" of the new rows, in index order */
	struct vbuf *hashes;     /* their leaf hashes, 32 bytes each */
	uint64_t n_new;
	int due;
	/* The checkpoint sealed this cycle, for the witness file after COMMIT. */
	char *note;
};

struct sequencer {
	struct sequencer_config cfg;
	char *witness_file;
	char *license_state_path;
	const struct keyring *kr;
	const struct audit_keys *keys;
	struct db_pool *pool;     /* one connection: the advisory lock lives on it */
	struct license_counter *counter;
	pthread_t thread;
	int started;
	atomic_int stop;
	atomic_int leader;
	atomic_int halted;
	pthread_mutex_t mu;       /* guards halt_reason */
	char halt_reason[SEQUENCER_REASON_MAX];
	uint64_t last_verify_ms;
	size_t verify_cursor;     /* round robin over orgs (recent ranges) */
	size_t full_cursor;       /* the org whose whole log a full pass re-checks */
	uint64_t passes;          /* background passes so far */
	int reserve_failing;      /* the license state refused the last reservation */
	/* Findings already reported (org, index), so one tamper is one event per process. */
	char reported[64][128];
	size_t n_reported;
	size_t next_report;
};

static void
work_free(struct org_work *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		vbuf_free(w[i].ids);
		vbuf_free(w[i].hashes);
		free(w[i].note);
	}
	free(w);
}

static struct org_work *
work_find(struct org_work *w, size_t n, const struct vt_uuid *org)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (uuid_eq(&w[i].org, org))
			return &w[i];
	}
	return NULL;
}

/* Appends a uuid to the "{a,b,...}" array literal being built (without its closing brace). */
static int
ids_append(struct vbuf *ids, const struct vt_uuid *u)
{
	char s[UUID_STR_LEN + 2];

	s[0] = vbuf_len(ids) == 0 ? '{' : ',';
	uuid_format(u, s + 1);
	return vbuf_put(ids, s, UUID_STR_LEN + 1);
}

/* Holds (or takes) the leader's session-level advisory lock on this connection. */
static int
leader_check(struct db_tx *tx, int *is_leader)
{
	struct db_res *res = NULL;
	int r;

	r = db_query(tx, "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = "
			 "'advisory' AND pid = pg_backend_pid() AND classid = 1448362325 AND "
			 "objid = 1 AND objsubid = 2 AND granted) THEN true ELSE "
			 "pg_try_advisory_lock(1448362325, 1) END", NULL, &res);
	if (r == 0)
		*is_leader = db_res_bool(res, 0, 0);
	db_res_free(res);
	return r;
}

/* Loads org's state row (under its RLS context) into w. */
static int
load_state(struct db_tx *tx, struct org_work *w)
{
	struct db_params p;
	struct db_res *res = NULL;
	struct vbuf *fr = vbuf_new(MERKLE_FRONTIER_ENC_MAX);
	struct vbuf *h = vbuf_new(HASH_SHA256_LEN);
	int64_t size, cps, since;
	int r;

	merkle_frontier_init(&w->f);
	if ((r = db_tx_set_org(tx, &w->org)) != 0)
		goto out;
	db_params_init(&p);
	db_param_uuid(&p, &w->org);
	r = db_query(tx, "SELECT size, frontier, checkpoint_size, checkpoint_hash, "
			 "coalesce((extract(epoch FROM unsealed_since) * 1000000)::bigint, 0), "
			 "checkpoint_time FROM audit_log_state WHERE org_id = $1 FOR UPDATE", &p, &res);
	db_params_free(&p);
	if (r != 0)
		goto out;
	if (db_res_rows(res) == 0) {
		r = 0;
		goto out;
	}
	w->has_state = 1;
	if ((r = db_res_int(res, 0, 0, &size)) != 0 || (r = db_res_bytes(res, 0, 1, fr)) != 0 ||
	    (r = db_res_int(res, 0, 2, &cps)) != 0 || (r = db_res_int(res, 0, 4, &since)) != 0 ||
	    (r = db_res_int(res, 0, 5, &w->cp_time_s)) != 0)
		goto out;
	if (merkle_frontier_decode(vbuf_ptr(fr), vbuf_len(fr), &w->f) != 0 ||
	    merkle_frontier_size(&w->f) != (uint64_t)size || cps < 0 || cps > size) {
		log_error("audit log state of an organization is corrupt (frontier does not match "
			  "its size); its log is not extended until this is investigated");
		r = VT_ERR_CRYPTO;
		goto out;
	}
	w->old_size = (uint64_t)size;
	w->cp_size = (uint64_t)cps;
	w->unsealed_since_us = since;
	if (!db_res_isnull(res, 0, 3)) {
		if ((r = db_res_bytes(res, 0, 3, h)) != 0)
			goto out;
		if (vbuf_len(h) != HASH_SHA256_LEN) {
			r = VT_ERR_CRYPTO;
			goto out;
		}
		memcpy(w->cp_hash, vbuf_ptr(h), HASH_SHA256_LEN);
		w->has_cp_hash = 1;
	}
	r = 0;
 out:
	db_res_free(res);
	vbuf_free(fr);
	vbuf_free(h);
	return r;
}

/* Appends one witness line per sealed checkpoint; failures are logged, never fatal. */
static void
witness_append(struct sequencer *s, struct org_work *w, size_t n)
{
	char origin[AUDIT_ORIGIN_MAX + 1];
	struct vbuf *line = NULL;
	size_t i;
	int fd;

	if (s->witness_file == NULL)
		return;
	fd = open(s->witness_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_error("AUDIT_WITNESS_FILE: cannot open %s: %s", s->witness_file,
		    strerror(errno));
		return;
	}
	line = vbuf_new(2 * NOTE_MAX + 512);
	for (i = 0; i < n; i++) {
		size_t b64n;
		uint8_t *p;

		if (w[i].note == NULL)
			continue;
		vbuf_reset(line);
		audit_origin(s->keys, &w[i].org, origin);
		b64n = b64_encoded_size(strlen(w[i].note));
		if (vbuf_put_cstr(line, "checkpoint ") != 0 || vbuf_put_cstr(line, origin) != 0 ||
		    vbuf_put_cstr(line, " ") != 0 || vbuf_reserve(line, b64n, &p) != 0)
			continue;
		b64_encode((const uint8_t *)w[i].note, strlen(w[i].note), (char *)p, b64n);
		/* b64_encode NUL-terminates inside the reserved room: replace the NUL by '\n'. */
		p[b64n - 1] = '\n';
		if (write(fd, vbuf_ptr(line), vbuf_len(line)) != (ssize_t)vbuf_len(line))
			log_error("AUDIT_WITNESS_FILE: write failed: %s", strerror(errno));
	}
	if (fdatasync(fd) != 0)
		log_error("AUDIT_WITNESS_FILE: fdatasync failed: %s", strerror(errno));
	close(fd);
	vbuf_free(line);
}

/* Inserts the new index rows, the checkpoint (when due) and the state of one org. */
static int
write_org(struct sequencer *s, struct db_tx *tx, struct org_work *w, uint64_t counter,
    int64_t now_us)
{
	char origin[AUDIT_ORIGIN_MAX + 1];
	uint8_t root[MERKLE_HASH_LEN], text_hash[HASH_SHA256_LEN];
	struct vbuf *text = NULL, *note = NULL, *fr = vbuf_new(MERKLE_FRONTIER_ENC_MAX);
	struct note_signer *signer = NULL;
	struct db_params p;
	struct db_res *res = NULL;
	uint64_t size = merkle_frontier_size(&w->f);
	int64_t since;
	int r;

	if ((r = db_tx_set_org(tx, &w->org)) != 0)
		goto out;
	if (w->n_new > 0) {
		const char *ids;

		if ((r = vbuf_put(w->ids, "}", 1)) != 0 || (r = vbuf_cstr(w->ids, &ids)) != 0)
			goto out;
		db_params_init(&p);
		db_param_uuid(&p, &w->org);
		db_param_int(&p, (int64_t)w->old_size);
		db_param_text(&p, ids);
		db_param_bytes(&p, vbuf_ptr(w->hashes), vbuf_len(w->hashes));
		r = db_query(tx, "INSERT INTO audit_index (org_id, idx, audit_id, leaf_hash) "
				 "SELECT $1, $2::bigint + t.i - 1, t.a, "
				 " substring($4::bytea FROM ((t.i - 1) * 32 + 1)::int FOR 32) "
				 "FROM unnest($3::uuid[]) WITH ORDINALITY AS t(a, i)", &p, NULL);
		db_params_free(&p);
		if (r != 0)
			goto out;
	}
	if ((r = merkle_frontier_encode(&w->f, fr)) != 0)
		goto out;
	if (w->due) {
		text = vbuf_new(NOTE_MAX);
		note = vbuf_new(NOTE_MAX);
		merkle_frontier_root(&w->f, root);
		audit_origin(s->keys, &w->org, origin);
		/* Checkpoint times never go back, even when the clock does. */
		if (w->cp_time_s < now_us / 1000000)
			w->cp_time_s = now_us / 1000000;
		if ((r = chain_checkpoint_text(origin, size, root, w->has_cp_hash ? w->cp_hash : NULL,
		    counter, w->cp_time_s, text)) != 0 ||
		    (r = audit_keys_signer(s->keys, &w->org, &signer)) != 0 ||
		    (r = note_sign(signer, (const char *)vbuf_ptr(text), vbuf_len(text), note)) != 0)
			goto out;
		hash_sha256(vbuf_ptr(text), vbuf_len(text), text_hash);
		w->note = xstrndup((const char *)vbuf_ptr(note), vbuf_len(note));
		db_params_init(&p);
		db_param_uuid(&p, &w->org);
		db_param_int(&p, (int64_t)size);
		db_param_int(&p, (int64_t)counter);
		db_param_bytes(&p, root, sizeof(root));
		if (w->has_cp_hash)
			db_param_bytes(&p, w->cp_hash, sizeof(w->cp_hash));
		else
			db_param_text(&p, NULL);
		db_param_bytes(&p, text_hash, sizeof(text_hash));
		db_param_bytes(&p, vbuf_ptr(fr), vbuf_len(fr));
		db_param_text(&p, w->note);
		r = db_query(tx, "INSERT INTO audit_checkpoints (org_id, size, counter, root, "
				 "prev_hash, text_hash, frontier, note) "
				 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", &p, NULL);
		db_params_free(&p);
		if (r != 0)
			goto out;
		w->cp_size = size;
		memcpy(w->cp_hash, text_hash, sizeof(text_hash));
		w->has_cp_hash = 1;
	}
	/* Rows wait from the first one unsealed; a checkpoint starts the wait again. */
	since = size > w->cp_size ? (w->unsealed_since_us > 0 ? w->unsealed_since_us : now_us) : 0;
	db_params_init(&p);
	db_param_uuid(&p, &w->org);
	db_param_int(&p, (int64_t)size);
	db_param_bytes(&p, vbuf_ptr(fr), vbuf_len(fr));
	db_param_int(&p, (int64_t)w->cp_size);
	if (w->has_cp_hash)
		db_param_bytes(&p, w->cp_hash, sizeof(w->cp_hash));
	else
		db_param_text(&p, NULL);
	db_param_int(&p, w->due ? (int64_t)counter : 0);
	if (since > 0)
		db_param_int(&p, since);
	else
		db_param_text(&p, NULL);
	db_param_int(&p, (int64_t)w->old_size);
	db_param_int(&p, w->cp_time_s);
	/* Compare-and-swap on the size read at the start of the cycle. */
	r = db_query(tx, "INSERT INTO audit_log_state AS s (org_id, size, frontier, "
			 " checkpoint_size, checkpoint_hash, checkpoint_counter, unsealed_since, "
			 " checkpoint_time) "
			 "VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7::bigint / 1000000.0), $9) "
			 "ON CONFLICT (org_id) DO UPDATE SET size = EXCLUDED.size, "
			 " frontier = EXCLUDED.frontier, checkpoint_size = EXCLUDED.checkpoint_size, "
			 " checkpoint_hash = EXCLUDED.checkpoint_hash, "
			 " checkpoint_counter = CASE WHEN $6 > 0 THEN $6 "
			 "  ELSE s.checkpoint_counter END, "
			 " unsealed_since = EXCLUDED.unsealed_since, "
			 " checkpoint_time = EXCLUDED.checkpoint_time, updated_at = clock_timestamp() "
			 "WHERE s.size = $8 RETURNING 1", &p, &res);
	db_params_free(&p);
	if (r == 0 && db_res_rows(res) != 1) {
		log_error("audit log state changed under the sequencer; the cycle is retried");
		r = VT_ERR_CONFLICT;
	}
 out:
	db_res_free(res);
	note_signer_free(signer);
	vbuf_free(text);
	vbuf_free(note);
	vbuf_free(fr);
	return r;
}

/* Rows of the transaction's org (system actor) — for rollback and tamper events. */
static int
record_event(struct db_tx *tx, const struct vt_uuid *org, const char *action,
    enum audit_outcome outcome, json_t *detail)
{
	struct audit_event ev;
	int r;

	memset(&ev, 0, sizeof(ev));
	ev.action = action;
	ev.actor_type = AUDIT_ACTOR_SYSTEM;
	ev.outcome = outcome;
	ev.resource_type = "audit_log";
	ev.detail = detail;
	if (org == NULL)
		return audit_append_system(tx, &ev);
	if ((r = db_tx_set_org(tx, org)) != 0)
		return r;
	return audit_append(tx, &ev);
}

static int
db_max_counter(struct db_tx *tx, uint64_t *out)
{
	struct db_res *res = NULL;
	int64_t v = 0;
	int r;

	*out = 0;
	if ((r = db_query(tx, "SELECT vt_audit_max_counter()", NULL, &res)) == 0 &&
	    (r = db_res_int(res, 0, 0, &v)) == 0)
		*out = (uint64_t)(v > 0 ? v : 0);
	db_res_free(res);
	return r;
}

static void
set_halt(struct sequencer *s, const char *reason)
{
	pthread_mutex_lock(&s->mu);
	if (reason != NULL)
		snprintf(s->halt_reason, sizeof(s->halt_reason), "%s", reason);
	else
		s->halt_reason[0] = '\0';
	atomic_store(&s->halted, reason != NULL);
	pthread_mutex_unlock(&s->mu);
}

/*
 * Raises the rollback halt (once: the database keeps the first reason) with its security events:
 * one system row, and one row in every org that has a chain.
 */
static int
raise_rollback(struct sequencer *s, const char *reason, uint64_t file_counter, uint64_t db_max)
{
	struct db_tx *tx = NULL;
	struct db_res *res = NULL, *orgs = NULL;
	struct db_params p;
	json_t *d = NULL;
	int r, i;

	if ((r = db_tx_begin(s->pool, &tx)) != 0)
		return r;
	db_params_init(&p);
	db_param_text(&p, reason);
	r = db_query(tx, "SELECT vt_audit_halt_raise($1)", &p, &res);
	db_params_free(&p);
	if (r != 0)
		goto out;
	if (db_res_bool(res, 0, 0)) {
		log_error("AUDIT_ROLLBACK_DETECTED: %s%s", reason, s->cfg.production ?
		    "; the API refuses requests until an operator runs `vaultterm operator "
		    "ack-rollback`" : " (development: serving continues)");
		d = json_packx("{s:s, s:I, s:I}", "reason", reason, "license_counter",
		    (json_int_t)file_counter, "database_counter", (json_int_t)db_max);
		if ((r = record_event(tx, NULL, "AUDIT_ROLLBACK_DETECTED", AUDIT_FAILURE, d)) != 0 ||
		    (r = db_query(tx, "SELECT id FROM vt_audit_chain_orgs() AS id", NULL,
		    &orgs)) != 0)
			goto out;
		for (i = 0; i < db_res_rows(orgs); i++) {
			struct vt_uuid org;

			if ((r = db_res_uuid(orgs, i, 0, &org)) != 0 ||
			    (r = record_event(tx, &org, "AUDIT_ROLLBACK_DETECTED", AUDIT_FAILURE, d)) != 0)
				goto out;
		}
	}
	r = db_tx_commit(tx);
	tx = NULL;
	/* Halt now, not at the next poll: a production server must not serve in between. */
	if (r == 0)
		set_halt(s, reason);
 out:
	json_decref(d);
	db_res_free(res);
	db_res_free(orgs);
	db_tx_rollback(tx);
	return r;
}

/* The derived key the license file is MACed with. */
static int
counter_key(const struct keyring *kr, const char *purpose, uint8_t key[static COUNTER_KEY_LEN])
{
	struct secmem *k = NULL;
	int r;

	if ((r = keyring_derive(kr, purpose, &k)) != 0)
		return r;
	if (secmem_len(k) < COUNTER_KEY_LEN) {
		secmem_free(k);
		return VT_ERR_CRYPTO;
	}
	memcpy(key, secmem_ptr(k), COUNTER_KEY_LEN);
	secmem_free(k);
	return 0;
}

int
sequencer_ack_mac(const struct keyring *kr, const char *reason, const char *halt_at,
    uint8_t out[static 32])
{
	uint8_t key[COUNTER_KEY_LEN], mac[HMAC_MAX_LEN];
	char *msg;
	size_t n;
	int r;

	if ((r = counter_key(kr, "audit-rollback-ack", key)) != 0)
		return r;
	msg = xasprintf("vaultterm rollback ack v1\n%s\n%s", reason, halt_at);
	r = hmac_compute(HMAC_SHA256, key, sizeof(key), msg, strlen(msg), mac, &n);
	free(msg);
	if (r == 0)
		memcpy(out, mac, 32);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(mac, sizeof(mac));
	return r;
}

/*
 * Reads the halt row. An acknowledged halt whose MAC verifies (the leader only) re-bases the
 * counter file on the database and clears the halt.
 */
static int
poll_halt(struct sequencer *s, int leader)
{
	struct db_tx *tx = NULL;
	struct db_res *res = NULL;
	struct vbuf *mac = vbuf_new(32);
	uint8_t want[32];
	const char *reason;
	int r;

	if ((r = db_tx_begin(s->pool, &tx)) != 0)
		goto out;
	if ((r = db_query(tx, "SELECT halt_reason, " HALT_AT_TEXT ", ack_mac FROM vt_audit_halt()",
	    NULL, &res)) != 0)
		goto out;
	if (db_res_rows(res) != 1 || db_res_isnull(res, 0, 0)) {
		if (atomic_load(&s->halted))
			log_info("audit rollback halt cleared");
		set_halt(s, NULL);
		r = 0;
		goto out;
	}
	reason = db_res_text(res, 0, 0);
	if (!atomic_load(&s->halted))
		set_halt(s, reason);
	if (!leader || db_res_isnull(res, 0, 2)) {
		r = 0;
		goto out;
	}
	if ((r = db_res_bytes(res, 0, 2, mac)) != 0 ||
	    (r = sequencer_ack_mac(s->kr, reason, db_res_text(res, 0, 1), want)) != 0)
		goto out;
	if (vbuf_len(mac) != 32 || sodium_memcmp(vbuf_ptr(mac), want, 32) != 0) {
		log_error("audit rollback acknowledgement does not verify under this master key; "
			  "ignored (run `vaultterm operator ack-rollback` with the deployment's key)");
		r = 0;
		goto out;
	}
	{
		uint64_t db_max;

		if ((r = db_max_counter(tx, &db_max)) != 0 ||
		    (r = counter_rebase(s->counter, db_max)) != 0 ||
		    (r = db_query(tx, "SELECT vt_audit_halt_clear()", NULL, NULL)) != 0)
			goto out;
		if ((r = db_tx_commit(tx)) != 0) {
			tx = NULL;
			goto out;
		}
		tx = NULL;
		log_warn("audit rollback acknowledged by an operator; the license counter is "
			 "re-anchored at %llu and serving resumes", (unsigned long long)db_max);
		set_halt(s, NULL);
	}
	r = 0;
 out:
	sodium_memzero(want, sizeof(want));
	vbuf_free(mac);
	db_res_free(res);
	db_tx_rollback(tx);
	return r;
}

/* Compares the license file with the database (leader only). */
static int
check_rollback(struct sequencer *s)
{
	char reason[COUNTER_REASON_MAX];
	struct counter_state st;
	struct db_tx *tx = NULL;
	enum counter_verdict v;
	uint64_t db_max;
	int r, have;

	if ((r = db_tx_begin(s->pool, &tx)) != 0)
		return r;
	r = db_max_counter(tx, &db_max);
	db_tx_rollback(tx);
	if (r != 0)
		return r;
	r = counter_read(s->counter, &st);
	if (r == VT_ERR_VERIFY || r == VT_ERR_INVALID) {
		snprintf(reason, sizeof(reason), "the license state file %s fails its MAC check or "
		    "is malformed", s->license_state_path);
		return raise_rollback(s, reason, 0, db_max);
	}
	if (r != 0 && r != VT_ERR_NOT_FOUND)
		return r;
	have = r == 0;
	v = counter_check(have ? &st : NULL, db_max, reason, sizeof(reason));
	if (v == COUNTER_ROLLBACK || v == COUNTER_MISSING)
		return raise_rollback(s, reason, have ? st.committed : 0, db_max);
	if (!have && db_max == 0)
		return counter_rebase(s->counter, 0); /* first boot: create the file */
	return 0;
}

/* One sequencing cycle; *more when the batch was full. */
static int
cycle(struct sequencer *s, int *more)
{
	struct db_tx *tx = NULL;
	struct db_res *rows = NULL, *unsealed = NULL;
	struct db_params p;
	struct org_work *w = NULL;
	struct vbuf *canon = vbuf_new(AUDIT_DETAIL_MAX + 4096);
	size_t nw = 0, cap = 0, i;
	uint64_t counter = 0, db_max;
	int64_t now_us = vtime_now_us();
	int r, n, is_leader = 0, any_due = 0;
	const char *last_txid = NULL;
	int64_t last_seq = 0;

	*more = 0;
	if ((r = db_tx_begin(s->pool, &tx)) != 0)
		goto out;
	if ((r = leader_check(tx, &is_leader)) != 0)
		goto out;
	if (!is_leader) {
		if (atomic_exchange(&s->leader, 0))
			log_warn("audit sequencer: lost the leader lock (connection reset?)");
		/* Another server may lead now: let it have the license state's file lock. */
		counter_close(s->counter);
		s->counter = NULL;
		goto out;
	}
	db_params_init(&p);
	db_param_int(&p, SEQUENCER_BATCH);
	r = db_query(tx, "SELECT txid::text, seq, id, org_id, time_us, actor_type, "
			 "actor_id, actor_email, action, resource_type, resource_id, outcome, "
			 "source_ip, request_id, detail FROM vt_audit_seq_next($1)", &p, &rows);
	db_params_free(&p);
	if (r != 0)
		goto out;
	if ((r = db_query(tx, "SELECT id FROM vt_audit_unsealed_orgs() AS id", NULL,
	    &unsealed)) != 0)
		goto out;
	n = db_res_rows(rows);
	if (n == 0 && db_res_rows(unsealed) == 0)
		goto out;

	/* The orgs touched: those with new rows (in log order) and those with unsealed rows. */
	for (i = 0; i < (size_t)n + (size_t)db_res_rows(unsealed); i++) {
		struct vt_uuid org;

		if (i < (size_t)n)
			r = db_res_uuid(rows, (int)i, 3, &org);
		else
			r = db_res_uuid(unsealed, (int)(i - (size_t)n), 0, &org);
		if (r != 0)
			goto out;
		if (work_find(w, nw, &org) != NULL)
			continue;
		if (nw == cap) {
			cap = cap ? cap * 2 : 16;
			w = xrealloc(w, cap * sizeof(*w));
		}
		memset(&w[nw], 0, sizeof(w[nw]));
		w[nw].org = org;
		w[nw].hashes = vbuf_new((size_t)SEQUENCER_BATCH * MERKLE_HASH_LEN);
		w[nw].ids = vbuf_new((size_t)SEQUENCER_BATCH * (UUID_STR_LEN + 1) + 2);
		if ((r = load_state(tx, &w[nw])) != 0) {
			nw++;
			goto out;
		}
		nw++;
	}
	for (i = 0; i < (size_t)n; i++) {
		struct audit_row row;
		struct org_work *o;
		struct vt_uuid org;
		uint8_t leaf[MERKLE_HASH_LEN], *dst;

		memset(&row, 0, sizeof(row));
		if ((r = db_res_uuid(rows, (int)i, 3, &org)) != 0 ||
		    (r = audit_row_from_res(rows, (int)i, 2, &row)) != 0) {
			audit_row_clear(&row);
			goto out;
		}
		o = work_find(w, nw, &org);
		vbuf_reset(canon);
		r = audit_row_canonical(&row, canon);
		if (r == 0)
			r = merkle_leaf_hash(vbuf_ptr(canon), vbuf_len(canon), leaf);
		if (r == 0)
			r = merkle_frontier_append(&o->f, leaf);
		if (r == 0)
			r = vbuf_reserve(o->hashes, MERKLE_HASH_LEN, &dst);
		if (r == 0) {
			memcpy(dst, leaf, MERKLE_HASH_LEN);
			r = ids_append(o->ids, &row.id);
			o->n_new++;
		}
		audit_row_clear(&row);
		if (r != 0)
			goto out;
	}
	for (i = 0; i < nw; i++) {
		uint64_t size = merkle_frontier_size(&w[i].f), waiting = size - w[i].cp_size;
		int64_t since = w[i].unsealed_since_us > 0 ? w[i].unsealed_since_us : now_us;

		w[i].due = waiting > 0 && (waiting >= s->cfg.checkpoint_rows ||
		    (uint64_t)(now_us - since) >= s->cfg.checkpoint_interval_ms * 1000);
		any_due |= w[i].due;
	}
	if (any_due && atomic_load(&s->halted)) {
		/*
		 * Never extend a chain rooted in a rolled-back database until an operator
		 * acknowledged it (counter_reserve would refuse anyway). Rows keep being indexed.
		 */
		for (i = 0; i < nw; i++)
			w[i].due = 0;
		any_due = 0;
	}
	if (any_due) {
		if ((r = db_max_counter(tx, &db_max)) != 0)
			goto out;
		if ((r = counter_reserve(s->counter, db_max, &counter)) != 0) {
			/* Keep indexing; only sealing waits for a usable license state. */
			if (!s->reserve_failing)
				log_error("audit sequencer: cannot reserve a license counter value in "
					  "%s (%s); rows are indexed but no checkpoint is sealed until "
					  "this is fixed", s->license_state_path, vt_err_str(r));
			s->reserve_failing = 1;
			for (i = 0; i < nw; i++)
				w[i].due = 0;
			any_due = 0;
			counter = 0;
		} else if (s->reserve_failing) {
			log_info("audit sequencer: the license state is usable again; sealing resumes");
			s->reserve_failing = 0;
		}
	}
	for (i = 0; i < nw; i++) {
		if ((w[i].n_new > 0 || w[i].due) && (r = write_org(s, tx, &w[i], counter,
		    now_us)) != 0)
			goto out;
	}
	if (n > 0) {
		last_txid = db_res_text(rows, n - 1, 0);
		if ((r = db_res_int(rows, n - 1, 1, &last_seq)) != 0)
			goto out;
		db_params_init(&p);
		db_param_text(&p, last_txid);
		db_param_int(&p, last_seq);
		r = db_query(tx, "SELECT vt_audit_seq_advance($1::xid8, $2)", &p, NULL);
		db_params_free(&p);
		if (r != 0)
			goto out;
	}
	r = db_tx_commit(tx);
	tx = NULL;
	if (r != 0)
		goto out;
	if (any_due) {
		if (counter_commit(s->counter, counter) != 0)
			log_error("audit sequencer: cannot mark counter %llu committed in %s",
			    (unsigned long long)counter, s->license_state_path);
		witness_append(s, w, nw);
	}
	*more = n == SEQUENCER_BATCH;
 out:
	db_tx_rollback(tx);
	db_res_free(rows);
	db_res_free(unsealed);
	work_free(w, nw);
	vbuf_free(canon);
	return r;
}

/* Reports a finding once per process. */
static int
already_reported(struct sequencer *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n_reported; i++) {
		if (strcmp(s->reported[i], key) == 0)
			return 1;
	}
	/* A ring: the oldest finding is forgotten first (and may be reported again). */
	snprintf(s->reported[s->next_report], sizeof(s->reported[0]), "%s", key);
	s->next_report = (s->next_report + 1) % VT_NELEM(s->reported);
	if (s->n_reported < VT_NELEM(s->reported))
		s->n_reported++;
	return 0;
}

/*
 * Where a background pass starts for one org: the checkpoint VERIFY_RECENT back from the newest
 * (so recent ranges are re-checked on every pass), or 0 (the whole log) when it has fewer.
 */
static int
verify_start(struct db_tx *tx, const struct vt_uuid *org, uint64_t *from)
{
	struct db_params p;
	struct db_res *res = NULL;
	int64_t v = 0;
	int r;

	*from = 0;
	db_params_init(&p);
	db_param_uuid(&p, org);
	db_param_int(&p, VERIFY_RECENT);
	r = db_query(tx, "SELECT size FROM audit_checkpoints WHERE org_id = $1 "
			 "ORDER BY size DESC OFFSET $2 LIMIT 1", &p, &res);
	db_params_free(&p);
	if (r == 0 && db_res_rows(res) == 1 && (r = db_res_int(res, 0, 0, &v)) == 0)
		*from = (uint64_t)v;
	db_res_free(res);
	return r;
}

/*
 * Re-verifies one org's chain with the offline verifier's checks: the recent ranges, or the
 * whole log when full (or when the org's log is short).
 */
static int
verify_org(struct sequencer *s, const struct vt_uuid *org, int full)
{
	struct bundle_result res;
	struct note_verifier *v = NULL;
	struct db_tx *tx = NULL;
	struct vbuf *b = vbuf_new((size_t)1 << 30);
	char key[128], id[UUID_STR_LEN + 1];
	uint64_t from = 0;
	json_t *d = NULL;
	FILE *f = NULL;
	int r;

	memset(&res, 0, sizeof(res));
	if ((r = db_tx_begin_as(s->pool, org, NULL, &tx)) != 0)
		goto out;
	if (!full && (r = verify_start(tx, org, &from)) != 0)
		goto out;
	r = audit_export_from(tx, s->keys, from, b);
	if (r == VT_ERR_NOT_FOUND && from > 0) { /* the anchor went away: check everything */
		vbuf_reset(b);
		r = audit_export_from(tx, s->keys, 0, b);
	}
	if (r != 0)
		goto out;
	db_tx_rollback(tx);
	tx = NULL;
	if ((r = audit_keys_verifier(s->keys, org, &v)) != 0)
		goto out;
	if ((f = fmemopen((void *)(uintptr_t)vbuf_ptr(b), vbuf_len(b), "r")) == NULL) {
		r = VT_ERR_NOMEM;
		goto out;
	}
	r = bundle_verify_from(f, v, &res);
	if (r != VT_ERR_VERIFY) /* verified, or an I/O-class error that is not a finding */
		goto out;
	uuid_format(org, id);
	snprintf(key, sizeof(key), "%s:%d:%llu", id, res.has_bad_index,
	    (unsigned long long)res.bad_index);
	if (already_reported(s, key)) {
		r = 0;
		goto out;
	}
	if (res.has_bad_index)
		log_error("AUDIT_TAMPER_DETECTED in org %s at index %llu: %s", id,
		    (unsigned long long)res.bad_index, res.reason);
	else
		log_error("AUDIT_TAMPER_DETECTED in org %s: %s", id, res.reason);
	if (res.has_bad_index)
		d = json_packx("{s:s, s:I}", "reason", res.reason, "first_bad_index",
		    (json_int_t)res.bad_index);
	else
		d = json_packx("{s:s, s:n}", "reason", res.reason, "first_bad_index");
	if ((r = db_tx_begin_as(s->pool, org, NULL, &tx)) != 0 ||
	    (r = record_event(tx, org, "AUDIT_TAMPER_DETECTED", AUDIT_FAILURE, d)) != 0)
		goto out;
	r = db_tx_commit(tx);
	tx = NULL;
 out:
	if (f != NULL)
		fclose(f);
	json_decref(d);
	note_verifier_free(v);
	db_tx_rollback(tx);
	vbuf_free(b);
	return r;
}

/*
 * One background pass: the recent ranges of up to VERIFY_ORGS_PER_PASS orgs, and on every
 * VERIFY_FULL_EVERY-th pass (the first included) the whole log of one org (round robin), so every
 * row is re-checked now and then, not only recent ones.
 */
static void
verify_pass(struct sequencer *s)
{
	struct db_tx *tx = NULL;
	struct db_res *orgs = NULL;
	int i, n, done = 0, full = s->passes++ % VERIFY_FULL_EVERY == 0;

	if (db_tx_begin(s->pool, &tx) != 0)
		return;
	if (db_query(tx, "SELECT id FROM vt_audit_chain_orgs() AS id", NULL, &orgs) != 0) {
		db_tx_rollback(tx);
		return;
	}
	db_tx_rollback(tx);
	n = db_res_rows(orgs);
	for (i = 0; i < n && done < VERIFY_ORGS_PER_PASS && !atomic_load(&s->stop); i++) {
		struct vt_uuid org;
		int k = (int)((s->verify_cursor + (size_t)i) % (size_t)n);

		if (db_res_uuid(orgs, k, 0, &org) != 0)
			break;
		if (verify_org(s, &org, full && (size_t)k == s->full_cursor % (size_t)n) != 0)
			log_warn("audit background verification of an org could not run");
		done++;
	}
	if (n > 0 && full) {
		/* The whole-log check may fall outside this pass's window: do it too. */
		struct vt_uuid org;
		size_t fk = s->full_cursor % (size_t)n;
		size_t off = (fk + (size_t)n - s->verify_cursor % (size_t)n) % (size_t)n;

		if (off >= (size_t)done && db_res_uuid(orgs, (int)fk, 0, &org) == 0 &&
		    verify_org(s, &org, 1) != 0)
			log_warn("audit background verification of an org could not run");
		s->full_cursor++;
	}
	if (n > 0)
		s->verify_cursor = (s->verify_cursor + (size_t)done) % (size_t)n;
	db_res_free(orgs);
}

/* Gives the leader lock back (this server cannot lead). */
static void
release_lock(struct sequencer *s)
{
	struct db_tx *tx = NULL;

	if (db_tx_begin(s->pool, &tx) != 0)
		return;
	if (db_query(tx, "SELECT pg_advisory_unlock(1448362325, 1)", NULL, NULL) != 0)
		log_warn("audit sequencer: cannot release the leader lock");
	db_tx_rollback(tx);
}

/* Becomes the leader if the lock is free: opens the counter and checks for a rollback. */
static int
try_lead(struct sequencer *s)
{
	uint8_t key[COUNTER_KEY_LEN];
	struct db_tx *tx = NULL;
	int r, is_leader = 0;

	if ((r = db_tx_begin(s->pool, &tx)) != 0)
		return r;
	r = leader_check(tx, &is_leader);
	db_tx_rollback(tx);
	if (r != 0 || !is_leader)
		return r;
	if (s->counter == NULL) {
		if ((r = counter_key(s->kr, "license-counter", key)) != 0)
			return r;
		r = counter_open(s->license_state_path, key, &s->counter);
		sodium_memzero(key, sizeof(key));
		if (r != 0) {
			log_error("audit sequencer: cannot open the license state %s (%s); not "
				  "sequencing, and leaving the lock to another server",
			    s->license_state_path, vt_err_str(r));
			release_lock(s);
			return r;
		}
	}
	if ((r = check_rollback(s)) != 0) {
		release_lock(s);
		return r;
	}
	atomic_store(&s->leader, 1);
	log_info("audit sequencer: this server is the leader");
	return 0;
}

static void
nap(struct sequencer *s, uint64_t ms)
{
	while (ms > 0 && !atomic_load(&s->stop)) {
		uint64_t step = ms > 50 ? 50 : ms;

		usleep((useconds_t)(step * 1000));
		ms -= step;
	}
}

static void *
run(void *arg)
{
	struct sequencer *s = arg;
	uint64_t last_check = vtime_mono_ms();

	while (!atomic_load(&s->stop)) {
		int more = 0, leader = atomic_load(&s->leader);

		if (!leader) {
			(void)poll_halt(s, 0);
			if (s->cfg.enabled && try_lead(s) == 0 && atomic_load(&s->leader))
				continue;
			nap(s, 500);
			continue;
		}
		if (cycle(s, &more) != 0)
			more = 0;
		if (vtime_mono_ms() - last_check >= 1000) {
			last_check = vtime_mono_ms();
			(void)poll_halt(s, 1);
			if (!atomic_load(&s->halted)) /* raised once; then wait for the operator */
				(void)check_rollback(s);
		}
		if (s->cfg.verify_interval_ms > 0 &&
		    vtime_mono_ms() - s->last_verify_ms >= s->cfg.verify_interval_ms) {
			s->last_verify_ms = vtime_mono_ms();
			verify_pass(s);
		}
		if (!more)
			nap(s, SEQUENCER_POLL_MS < s->cfg.checkpoint_interval_ms ? SEQUENCER_POLL_MS :
			    s->cfg.checkpoint_interval_ms);
	}
	return NULL;
}

int
sequencer_start(const char *conninfo, const struct keyring *kr, const struct audit_keys *keys,
    const struct sequencer_config *cfg, struct sequencer **out)
{
	struct sequencer *s;
	int r;

	*out = NULL;
	if (cfg->enabled && cfg->license_state_path == NULL)
		return VT_ERR_CONFIG;
	s = xcalloc(1, sizeof(*s));
	s->cfg = *cfg;
	s->witness_file = cfg->witness_file != NULL ? xstrdup(cfg->witness_file) : NULL;
	s->license_state_path = cfg->license_state_path != NULL ?
	    xstrdup(cfg->license_state_path) : NULL;
	s->cfg.witness_file = s->witness_file;
	s->cfg.license_state_path = s->license_state_path;
	s->kr = kr;
	s->keys = keys;
	pthread_mutex_init(&s->mu, NULL);
	s->last_verify_ms = vtime_mono_ms();
	if ((r = db_pool_open(conninfo, 1, &s->pool)) != 0)
		goto fail;
	/* Before serving: the halt state, and the leader's rollback check when the lock is free. */
	if ((r = poll_halt(s, 0)) != 0)
		goto fail;
	if (cfg->enabled && (r = try_lead(s)) != 0 && r != VT_ERR_CONFLICT)
		goto fail;
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		r = VT_ERR_INTERNAL;
		goto fail;
	}
	s->started = 1;
	*out = s;
	return 0;
 fail:
	sequencer_stop(s);
	return r;
}

void
sequencer_stop(struct sequencer *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stop, 1);
	if (s->started)
		pthread_join(s->thread, NULL);
	counter_close(s->counter);
	db_pool_close(s->pool);
	pthread_mutex_destroy(&s->mu);
	free(s->witness_file);
	free(s->license_state_path);
	free(s);
}

int
sequencer_halted(struct sequencer *s, char *reason, size_t len)
{
	int h;

	if (s == NULL)
		return 0;
	h = atomic_load(&s->halted);
	if (h && reason != NULL && len > 0) {
		pthread_mutex_lock(&s->mu);
		snprintf(reason, len, "%s", s->halt_reason);
		pthread_mutex_unlock(&s->mu);
	}
	return h;
}

int
sequencer_is_leader(struct sequencer *s)
{
	return s != NULL && atomic_load(&s->leader);
}

int
sequencer_ack_rollback(struct db_pool *pool, const struct keyring *kr, const char *note,
    char msg[static SEQUENCER_REASON_MAX])
{
	struct db_tx *tx = NULL;
	struct db_res *res = NULL, *ok = NULL, *orgs = NULL;
	struct db_params p;
	uint8_t mac[32];
	json_t *d = NULL;
	const char *who = getenv("USER");
	int r, i;

	msg[0] = '\0';
	if ((r = db_tx_begin(pool, &tx)) != 0)
		goto out;
	if ((r = db_query(tx, "SELECT halt_reason, " HALT_AT_TEXT " FROM vt_audit_halt()", NULL,
	    &res)) != 0)
		goto out;
	if (db_res_rows(res) != 1 || db_res_isnull(res, 0, 0)) {
		snprintf(msg, SEQUENCER_REASON_MAX, "no audit rollback is pending");
		r = VT_ERR_NOT_FOUND;
		goto out;
	}
	snprintf(msg, SEQUENCER_REASON_MAX, "%s", db_res_text(res, 0, 0));
	if ((r = sequencer_ack_mac(kr, db_res_text(res, 0, 0), db_res_text(res, 0, 1), mac)) != 0)
		goto out;
	db_params_init(&p);
	db_param_bytes(&p, mac, sizeof(mac));
	r = db_query(tx, "SELECT vt_audit_halt_ack($1)", &p, &ok);
	db_params_free(&p);
	if (r != 0)
		goto out;
	d = json_packx("{s:s, s:s?, s:s?}", "reason", db_res_text(res, 0, 0), "note", note,
	    "operator", who);
	if ((r = record_event(tx, NULL, "AUDIT_ROLLBACK_ACKNOWLEDGED", AUDIT_SUCCESS,
	    d)) != 0 ||
	    (r = db_query(tx, "SELECT id FROM vt_audit_chain_orgs() AS id", NULL, &orgs)) != 0)
		goto out;
	for (i = 0; i < db_res_rows(orgs); i++) {
		struct vt_uuid org;

		if ((r = db_res_uuid(orgs, i, 0, &org)) != 0 ||
		    (r = record_event(tx, &org, "AUDIT_ROLLBACK_ACKNOWLEDGED",
		    AUDIT_SUCCESS, d)) != 0)
			goto out;
	}
	r = db_tx_commit(tx);
	tx = NULL;
 out:
	sodium_memzero(mac, sizeof(mac));
	json_decref(d);
	db_res_free(res);
	db_res_free(ok);
	db_res_free(orgs);
	db_tx_rollback(tx);
	return r;
}
