/*
 * The process's shared fingerprint sets (fpcache.h): a hash of org -> entry, each entry one
 * immutable set tagged with the org's generation, reference-counted under one mutex. Loads run
 * outside the mutex; a second acquirer of the same org and generation waits for the first one's
 * load instead of running its own (500 sessions of one org connecting at once load once). An
 * entry that a newer generation replaces leaves the map at once and is freed by its last release.
 * Entries nobody holds sit on an LRU list, oldest first: the idle drop and the memory bound both
 * take from its head, so a set in use is never freed.
 */
#include "vault/fpcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/log.h"
#include "base/vtime.h"
#include "db/db.h"
#include "scan/scan.h"
#include "vault/vault.h"

#define FPCACHE_BUCKETS 256 /* power of two; orgs are random v4 uuids */

struct vault_fpref {
	struct vault_fpcache *c;    /* NULL: a private set (no cache) */
	struct vt_uuid org;
	int64_t gen;
	struct scan_fpset *set;     /* NULL: the org has no scanner key */
	size_t mem;                 /* counted in c->bytes while cached */
	unsigned refs;
	int loading;                /* its first holder is loading the set */
	int cached;                 /* in the map (else freed by its last release) */
	uint64_t idle_since;        /* when refs last fell to 0 */
	struct vault_fpref *hnext;  /* hash chain */
	struct vault_fpref *prev, *next; /* LRU list (cached, refs == 0) or a free list */
};

struct vault_fpcache {
	pthread_mutex_t mu;
	pthread_cond_t loaded;      /* some load finished (or failed) */
	pthread_cond_t wake;        /* the sweeper's timer; signalled to stop it */
	pthread_t sweeper;
	int sweeper_started;
	int stopping;
	struct vault_fpcache_ops ops;
	uint64_t idle_ms;
	size_t max_bytes;
	struct vault_fpref *bucket[FPCACHE_BUCKETS];
	struct vault_fpref *lru_head, *lru_tail;
	size_t entries, bytes, idle;
	uint64_t hits, loads, drops;
};

/* ---- the database side ---------------------------------------------------------------------- */

static const struct vt_uuid *
db_org(struct db_tx *tx)
{
	return db_tx_org(tx);
}

static int
db_generation(struct db_tx *tx, int64_t *gen)
{
	struct db_params prm;
	struct db_res *res = NULL;
	int r;

	*gen = 0;
	db_params_init(&prm);
	db_param_uuid(&prm, db_tx_org(tx));
	r = db_query(tx, "SELECT generation FROM secret_fp_generations WHERE org_id = $1", &prm,
	    &res);
	db_params_free(&prm);
	if (r == 0 && db_res_rows(res) == 1 && (r = db_res_int(res, 0, 0, gen)) == 0 && *gen < 1)
		r = VT_ERR_DB; /* the table's CHECK holds this */
	db_res_free(res);
	return r;
}

/* ---- entries -------------------------------------------------------------------------------- */

static size_t
bucket_of(const struct vt_uuid *org)
{
	uint64_t h;

	memcpy(&h, org->b, sizeof(h));
	return (size_t)((h * 0x9e3779b97f4a7c15ULL) >> 56) & (FPCACHE_BUCKETS - 1);
}

static struct vault_fpref *
lookup(struct vault_fpcache *c, const struct vt_uuid *org)
{
	struct vault_fpref *e;

	for (e = c->bucket[bucket_of(org)]; e != NULL; e = e->hnext) {
		if (uuid_eq(&e->org, org))
			return e;
	}
	return NULL;
}

static void
lru_remove(struct vault_fpcache *c, struct vault_fpref *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->lru_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = NULL;
	c->idle--;
}

static void
lru_append(struct vault_fpcache *c, struct vault_fpref *e)
{
	e->next = NULL;
	e->prev = c->lru_tail;
	if (c->lru_tail != NULL)
		c->lru_tail->next = e;
	else
		c->lru_head = e;
	c->lru_tail = e;
	c->idle++;
}

/* Out of the map (and off the LRU list): onto *victims when nobody holds it, to free unlocked. */
static void
uncache(struct vault_fpcache *c, struct vault_fpref *e, struct vault_fpref **victims)
{
	struct vault_fpref **pp;

	VT_ASSERT(e->cached);
	for (pp = &c->bucket[bucket_of(&e->org)]; *pp != e; pp = &(*pp)->hnext)
		VT_ASSERT(*pp != NULL);
	*pp = e->hnext;
	e->hnext = NULL;
	e->cached = 0;
	c->entries--;
	c->bytes -= e->mem;
	c->drops++;
	if (e->refs == 0) {
		lru_remove(c, e);
		e->next = *victims;
		*victims = e;
	}
}

static void
entry_free(struct vault_fpref *e)
{
	if (e == NULL)
		return;
	scan_fpset_free(e->set); /* wipes the keys and the entries */
	free(e);
}

static void
victims_free(struct vault_fpref *v)
{
	struct vault_fpref *n;

	for (; v != NULL; v = n) {
		n = v->next;
		entry_free(v);
	}
}

/* Idle ones, then the least recently used while over the bound. */
static void
evict_locked(struct vault_fpcache *c, uint64_t now, struct vault_fpref **victims)
{
	struct vault_fpref *e;

	while ((e = c->lru_head) != NULL &&
	    (now - e->idle_since >= c->idle_ms || c->bytes > c->max_bytes))
		uncache(c, e, victims);
}

/* ---- the cache ------------------------------------------------------------------------------ */

static void *
sweeper_main(void *arg)
{
	struct vault_fpcache *c = arg;
	struct vault_fpref *victims = NULL;
	struct timespec at;

	pthread_mutex_lock(&c->mu);
	while (!c->stopping) {
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_sec += VAULT_FPCACHE_SWEEP_MS / 1000;
		at.tv_nsec += (long)(VAULT_FPCACHE_SWEEP_MS % 1000) * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		while (!c->stopping && pthread_cond_timedwait(&c->wake, &c->mu, &at) != ETIMEDOUT)
			;
		if (c->stopping)
			break;
		evict_locked(c, c->ops.now_ms(), &victims);
		if (victims != NULL) {
			pthread_mutex_unlock(&c->mu);
			victims_free(victims);
			victims = NULL;
			pthread_mutex_lock(&c->mu);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int
vault_fpcache_new(const struct vault_fpcache_config *cfg, struct vault_fpcache **out)
{
	struct vault_fpcache *c;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	if (cfg != NULL && cfg->ops != NULL)
		c->ops = *cfg->ops;
	if (c->ops.org == NULL)
		c->ops.org = db_org;
	if (c->ops.generation == NULL)
		c->ops.generation = db_generation;
	if (c->ops.load == NULL)
		c->ops.load = vault_fpset_load;
	if (c->ops.now_ms == NULL)
		c->ops.now_ms = vtime_mono_ms;
	c->idle_ms = cfg != NULL && cfg->idle_ms > 0 ? cfg->idle_ms : VAULT_FPCACHE_IDLE_MS;
	c->max_bytes = cfg != NULL && cfg->max_bytes > 0 ? cfg->max_bytes : VAULT_FPCACHE_MAX_BYTES;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->loaded, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (cfg != NULL && cfg->sweeper) {
		if (pthread_create(&c->sweeper, NULL, sweeper_main, c) != 0) {
			vault_fpcache_free(c);
			return VT_ERR_INTERNAL;
		}
		c->sweeper_started = 1;
	}
	*out = c;
	return 0;
}

void
vault_fpcache_free(struct vault_fpcache *c)
{
	struct vault_fpref *victims = NULL;
	size_t i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_broadcast(&c->wake);
	pthread_mutex_unlock(&c->mu);
	if (c->sweeper_started)
		pthread_join(c->sweeper, NULL);
	for (i = 0; i < FPCACHE_BUCKETS; i++) {
		while (c->bucket[i] != NULL) {
			VT_ASSERT(c->bucket[i]->refs == 0); /* a holder outlived the cache */
			uncache(c, c->bucket[i], &victims);
		}
	}
	victims_free(victims);
	pthread_cond_destroy(&c->wake);
	pthread_cond_destroy(&c->loaded);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* A new entry for org at gen, held once by its loader. */
static struct vault_fpref *
entry_new(struct vault_fpcache *c, const struct vt_uuid *org, int64_t gen)
{
	struct vault_fpref *e = xcalloc(1, sizeof(*e));

	e->c = c;
	e->org = *org;
	e->gen = gen;
	e->refs = 1;
	e->loading = 1;
	return e;
}

int
vault_fpset_acquire(struct vault_fpcache *c, struct db_tx *tx, struct keyring *kr,
    struct vault_fpref **out)
{
	struct vault_fpref *e, *n, *victims = NULL;
	struct scan_fpset *set = NULL;
	const struct vt_uuid *org;
	char oid[UUID_STR_LEN + 1];
	int64_t gen;
	int r;

	*out = NULL;
	if (c == NULL) {
		n = xcalloc(1, sizeof(*n));
		n->refs = 1;
		if ((r = vault_fpset_load(tx, kr, &n->set)) != 0) {
			free(n);
			return r;
		}
		*out = n;
		return 0;
	}
	if ((org = c->ops.org(tx)) == NULL)
		return VT_ERR_INTERNAL; /* a set always belongs to an org */
	/* First, in the caller's snapshot: the rows loaded below are at least this new. */
	if ((r = c->ops.generation(tx, &gen)) != 0)
		return r;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		if ((e = lookup(c, org)) == NULL || e->gen != gen)
			break;
		if (!e->loading) {
			if (e->refs++ == 0)
				lru_remove(c, e);
			c->hits++;
			pthread_mutex_unlock(&c->mu);
			*out = e;
			return 0;
		}
		/* Another holder is loading this very generation: its set will do. */
		pthread_cond_wait(&c->loaded, &c->mu);
	}
	/* Nothing cached, or another generation (older or newer: the map follows the last load). */
	n = entry_new(c, org, gen);
	if (e != NULL)
		uncache(c, e, &victims);
	n->hnext = c->bucket[bucket_of(org)];
	c->bucket[bucket_of(org)] = n;
	n->cached = 1;
	c->entries++;
	c->loads++;
	pthread_mutex_unlock(&c->mu);
	victims_free(victims);
	victims = NULL;

	r = c->ops.load(tx, kr, &set);

	pthread_mutex_lock(&c->mu);
	n->loading = 0;
	if (r == 0) {
		n->set = set;
		n->mem = sizeof(*n) + (set != NULL ? scan_fpset_memory(set) : 0);
		if (n->cached)
			c->bytes += n->mem;
	} else if (n->cached) {
		uncache(c, n, &victims); /* n is held: not a victim, freed below */
	}
	pthread_cond_broadcast(&c->loaded);
	evict_locked(c, c->ops.now_ms(), &victims);
	pthread_mutex_unlock(&c->mu);
	victims_free(victims);
	if (r != 0) {
		entry_free(n);
		return r;
	}
	if ((int)LOG_LEVEL_DEBUG >= log_min_level) {
		uuid_format(org, oid);
		log_debug("fingerprint cache: org %s loaded at generation %lld (%zu fingerprints, "
			  "%zu bytes)", oid, (long long)gen, set != NULL ? scan_fpset_count(set) : 0,
		    n->mem);
	}
	*out = n;
	return 0;
}

const struct scan_fpset *
vault_fpref_set(const struct vault_fpref *ref)
{
	return ref != NULL ? ref->set : NULL;
}

void
vault_fpset_release(struct vault_fpref *ref)
{
	struct vault_fpcache *c;
	struct vault_fpref *victims = NULL;

	if (ref == NULL)
		return;
	if ((c = ref->c) == NULL) {
		entry_free(ref);
		return;
	}
	pthread_mutex_lock(&c->mu);
	VT_ASSERT(ref->refs > 0 && !ref->loading);
	if (--ref->refs == 0) {
		if (!ref->cached) {
			ref->next = victims;
			victims = ref;
		} else {
			ref->idle_since = c->ops.now_ms();
			lru_append(c, ref);
			evict_locked(c, ref->idle_since, &victims);
		}
	}
	pthread_mutex_unlock(&c->mu);
	victims_free(victims);
}

void
vault_fpcache_sweep(struct vault_fpcache *c)
{
	struct vault_fpref *victims = NULL;

	pthread_mutex_lock(&c->mu);
	evict_locked(c, c->ops.now_ms(), &victims);
	pthread_mutex_unlock(&c->mu);
	victims_free(victims);
}

void
vault_fpcache_stats(struct vault_fpcache *c, struct vault_fpcache_stats *st)
{
	pthread_mutex_lock(&c->mu);
	st->entries = c->entries;
	st->bytes = c->bytes;
	st->idle = c->idle;
	st->hits = c->hits;
	st->loads = c->loads;
	st->drops = c->drops;
	pthread_mutex_unlock(&c->mu);
}
