/*
 * Test driver for the broker's recorder against a real database, without the SSH server
 * (tests/integration/test_recording.sh). It plays the session thread: connects as the app role
 * of a `vaultterm server --dev` data dir (its dev secrets give the master key and the role's
 * password), inserts a terminal_sessions row for ORG/USER, loads the org's vault fingerprints,
 * opens a recorder and feeds it stdin — the "target's output" — in random slices with real
 * timestamps, auditing each exposure as CREDENTIAL_EXPOSURE_DETECTED the way the broker does.
 *
 *   recorder_driver DATA_DIR ORG_ID USER_ID [--no-record] [--max-slice N] [--delay-ms N]
 *                   [--crash] < output
 *
 * Prints "session <id>" once the row exists, then (unless --crash) closes the recorder, ends the
 * session row and prints "bytes_out=N exposures=N recorded=0|1". With --crash it prints "fed"
 * after the input and keeps ticking until it is killed (the test kills it with SIGKILL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit/audit.h"
#include "base/encode.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/num.h"
#include "base/secmem.h"
#include "base/vtime.h"
#include "broker/recorder.h"
#include "crypto/keyring.h"
#include "db/cluster.h"
#include "db/db.h"
#include "db/keystore.h"
#include "scan/scan.h"
#include "vault/vault.h"

#define INPUT_MAX ((size_t)64 << 20)

struct drv {
	struct db_pool *pool;
	struct vt_uuid org, user, session;
	int audits;
};

static void
die(const char *what, int r)
{
	fprintf(stderr, "recorder_driver: %s: %s\n", what, vt_err_str(r));
	exit(1);
}

/* VALUE of NAME=VALUE in the dev secrets file, into guarded memory. */
static struct secmem *
dev_secret(const char *dir, const char *name)
{
	char *path = xasprintf("%s/dev-secrets.env", dir), line[512];
	struct secmem *out = NULL;
	size_t nl = strlen(name);
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "recorder_driver: cannot open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\r\n");

		line[n] = '\0';
		if (strncmp(line, name, nl) == 0 && line[nl] == '=') {
			out = secmem_dup(line + nl + 1, n - nl - 1 + 1); /* with the NUL */
			break;
		}
	}
	sodium_memzero(line, sizeof(line));
	fclose(f);
	free(path);
	if (out == NULL) {
		fprintf(stderr, "recorder_driver: %s not in the dev secrets\n", name);
		exit(1);
	}
	return out;
}

/* What the broker's session thread does for each exposure: one audit row, or the call fails. */
static int
on_exposure(void *ud, const struct scan_match *m)
{
	struct drv *d = ud;
	struct audit_actor who;
	struct db_tx *tx = NULL;
	char sid[UUID_STR_LEN + 1];
	json_t *detail;
	int r;

	memset(&who, 0, sizeof(who));
	who.type = AUDIT_ACTOR_USER;
	who.has_id = 1;
	who.id = d->user;
	uuid_format(&d->session, sid);
	detail = json_packx("{s:s, s:s?, s:I, s:I}", "rule_id", m->rule_id, "fingerprint",
	    m->label, "start", (json_int_t)m->start, "end", (json_int_t)m->end);
	if ((r = db_tx_begin_as(d->pool, &d->org, &d->user, &tx)) == 0 &&
	    (r = audit_record(tx, &who, "CREDENTIAL_EXPOSURE_DETECTED", "terminal_session", sid,
	    AUDIT_SUCCESS, detail)) == 0) {
		r = db_tx_commit(tx);
		tx = NULL;
	}
	db_tx_rollback(tx);
	json_decref(detail);
	if (r == 0)
		d->audits++;
	return r;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	struct secmem *mk_hex, *app_pw, *mk;
	struct keyring *kr = NULL;
	struct scan_db *db = NULL;
	struct scan_fpset *fps = NULL;
	struct recorder *rec = NULL;
	struct recorder_params prm;
	struct recorder_stats st;
	struct db_tx *tx = NULL;
	struct db_params p;
	struct drv d;
	struct vbuf *in = vbuf_new(INPUT_MAX);
	char serr[SCAN_ERR_MAX], sid[UUID_STR_LEN + 1], *conn;
	uint8_t buf[65536];
	uint64_t max_slice = 4096, delay_ms = 0, v;
	int i, r, record = 1, crash = 0;
	size_t off;
	ssize_t n;

	if (argc < 4) {
		fprintf(stderr, "usage: recorder_driver DATA_DIR ORG_ID USER_ID [--no-record] "
				"[--max-slice N] [--delay-ms N] [--crash] < output\n");
		return 2;
	}
	memset(&d, 0, sizeof(d));
	if (uuid_parse(argv[2], &d.org) != 0 || uuid_parse(argv[3], &d.user) != 0) {
		fprintf(stderr, "recorder_driver: ORG_ID and USER_ID must be UUIDs\n");
		return 2;
	}
	for (i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--no-record") == 0) {
			record = 0;
		} else if (strcmp(argv[i], "--crash") == 0) {
			crash = 1;
		} else if (strcmp(argv[i], "--max-slice") == 0 && i + 1 < argc &&
		    num_parse_u64(argv[i + 1], 1, 1 << 20, &v) == 0) {
			max_slice = v;
			i++;
		} else if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc &&
		    num_parse_u64(argv[i + 1], 0, 10000, &v) == 0) {
			delay_ms = v;
			i++;
		} else {
			fprintf(stderr, "recorder_driver: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (secmem_init() != 0)
		return 1;
	json_use_wiping_allocator();
	log_set_level(LOG_LEVEL_WARN);

	/* Key material and the app role's connection, as the dev server has them. */
	mk_hex = dev_secret(argv[1], "DEV_MASTER_KEY");
	app_pw = dev_secret(argv[1], "PG_APP_PASSWORD");
	if ((mk = secmem_new(32)) == NULL ||
	    hex_decode((const char *)secmem_ptr(mk_hex), strlen((const char *)secmem_ptr(mk_hex)),
	    secmem_ptr(mk), 32) != 0) {
		fprintf(stderr, "recorder_driver: DEV_MASTER_KEY is not 32 bytes of hex\n");
		return 1;
	}
	secmem_free(mk_hex);
	if ((r = keyring_new_local(mk, 1, &kr)) != 0)
		die("keyring", r);
	conn = cluster_conninfo_for(argv[1], CLUSTER_APP_ROLE, (const char *)secmem_ptr(app_pw));
	r = db_pool_open(conn, 2, &d.pool);
	sodium_memzero(conn, strlen(conn));
	free(conn);
	secmem_free(app_pw);
	if (r != 0)
		die("database", r);
	if ((r = db_tx_begin(d.pool, &tx)) != 0 || (r = keystore_verify(tx, kr)) != 0 ||
	    (r = keystore_sync(tx, kr)) != 0 || (r = db_tx_commit(tx)) != 0)
		die("keyring check", r);
	tx = NULL;
	if (scan_db_open(&db, serr) != 0) {
		fprintf(stderr, "recorder_driver: scanner: %s\n", serr);
		return 1;
	}

	/* The session row and the org's fingerprints. */
	uuid_random(&d.session);
	uuid_format(&d.session, sid);
	if ((r = db_tx_begin_as(d.pool, &d.org, &d.user, &tx)) != 0)
		die("begin", r);
	db_params_init(&p);
	db_param_uuid(&p, &d.session);
	db_param_uuid(&p, &d.org);
	db_param_uuid(&p, &d.user);
	r = db_query(tx, "INSERT INTO terminal_sessions (id, org_id, profile_name, user_id, kind, "
			 "term, width, height) VALUES ($1, $2, 'driver', $3, 'shell', "
			 "'xterm-256color', 100, 30)", &p, NULL);
	db_params_free(&p);
	if (r != 0 || (r = vault_fpset_load(tx, kr, &fps)) != 0 || (r = db_tx_commit(tx)) != 0)
		die("session row / fingerprints", r);
	tx = NULL;
	fprintf(stderr, "recorder_driver: %zu fingerprints\n", fps != NULL ?
	    scan_fpset_count(fps) : (size_t)0);
	printf("session %s\n", sid);
	fflush(stdout);

	while ((n = read(0, buf, sizeof(buf))) > 0)
		if ((r = vbuf_put(in, buf, (size_t)n)) != 0)
			die("input", r);
	sodium_memzero(buf, sizeof(buf));

	memset(&prm, 0, sizeof(prm));
	prm.org = &d.org;
	prm.session = &d.session;
	prm.record = record;
	prm.width = 100;
	prm.height = 30;
	prm.term = "xterm-256color";
	prm.title = "driver (recorder test)";
	prm.start_us = vtime_now_us();
	prm.on_exposure = on_exposure;
	prm.ud = &d;
	if ((r = recorder_open(d.pool, kr, db, fps, &prm, &rec)) != 0)
		die("recorder_open", r);
	for (off = 0; off < vbuf_len(in);) {
		size_t k = 1 + randombytes_uniform((uint32_t)max_slice);

		if (k > vbuf_len(in) - off)
			k = vbuf_len(in) - off;
		if ((r = recorder_output(rec, vtime_now_us(), vbuf_ptr(in) + off, k)) != 0)
			die("recorder_output", r);
		off += k;
		if (randombytes_uniform(16) == 0 &&
		    (r = recorder_resize(rec, vtime_now_us(), 80 + (int)randombytes_uniform(40),
		    24 + (int)randombytes_uniform(20))) != 0)
			die("recorder_resize", r);
		if (delay_ms > 0)
			sleep_ms((unsigned int)delay_ms);
		if ((r = recorder_tick(rec, vtime_now_us())) != 0)
			die("recorder_tick", r);
	}
	if (crash) {
		printf("fed\n");
		fflush(stdout);
		for (;;) {
			sleep_ms(50);
			if (vtime_now_us() >= recorder_deadline(rec) &&
			    (r = recorder_tick(rec, vtime_now_us())) != 0)
				die("recorder_tick", r);
		}
	}
	if ((r = recorder_close(rec, vtime_now_us(), &st)) != 0)
		die("recorder_close", r);
	if ((r = db_tx_begin_as(d.pool, &d.org, &d.user, &tx)) != 0)
		die("begin", r);
	db_params_init(&p);
	db_param_uuid(&p, &d.session);
	db_param_int(&p, (int64_t)st.bytes_out);
	db_param_int(&p, st.exposures);
	db_param_bool(&p, st.recorded);
	r = db_exec_one(tx, "UPDATE terminal_sessions SET ended_at = now(), bytes_out = $2, "
			    "exposures = $3, recorded = $4, end_reason = 'closed' WHERE id = $1", &p);
	db_params_free(&p);
	if (r != 0 || (r = db_tx_commit(tx)) != 0)
		die("session end", r);
	printf("bytes_out=%llu exposures=%u recorded=%d audits=%d\n",
	    (unsigned long long)st.bytes_out, st.exposures, st.recorded, d.audits);
	scan_fpset_free(fps);
	scan_db_free(db);
	db_pool_close(d.pool);
	keyring_free(kr);
	vbuf_free(in);
	return 0;
}
