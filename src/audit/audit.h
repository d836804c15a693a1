/*
 * The audit trail's write and read paths. audit_append() inserts one row in the caller's
 * transaction, so the row commits exactly when the action does; if the insert fails the caller
 * must fail the action (fail closed). Rows are never updated or deleted (the app role has INSERT
 * and SELECT only, and a trigger refuses UPDATE/DELETE/TRUNCATE to everyone). Each row has a
 * stable UUID and a documented canonical byte encoding (docs/audit.md) that the checkpoint chain
 * hashes.
 */
#ifndef VT_AUDIT_AUDIT_H
#define VT_AUDIT_AUDIT_H

#include <stdint.h>

#include <jansson.h>

#include "base/encode.h"
#include "base/util.h"
#include "base/vbuf.h"
#include "db/db.h"

#define AUDIT_DETAIL_MAX 16384     /* bytes of canonical detail JSON */
#define AUDIT_LIST_MAX 500         /* page size ceiling */
#define AUDIT_LIST_DEFAULT 100
#define AUDIT_CANONICAL_MAGIC "VTAUDIT1"

enum audit_actor_type {
	AUDIT_ACTOR_USER,
	AUDIT_ACTOR_API_TOKEN,
	AUDIT_ACTOR_SYSTEM,
	AUDIT_ACTOR_ANONYMOUS,
};

enum audit_outcome {
	AUDIT_SUCCESS,
	AUDIT_FAILURE,
	AUDIT_DENIED,
};

struct audit_event {
	const char *action;             /* UPPER_SNAKE, e.g. "USER_REGISTERED" */
	enum audit_actor_type actor_type;
	const struct vt_uuid *actor_id; /* NULL when none */
	const char *actor_email;        /* NULL when none */
	const char *resource_type;      /* NULL when none */
	const char *resource_id;        /* NULL when none */
	enum audit_outcome outcome;
	const char *source_ip;
	const char *request_id;
	const json_t *detail;           /* borrowed; NULL = {} — never a secret value */
};

/* A stored row as read back; strings owned by the row. */
struct audit_row {
	struct vt_uuid id;
	int has_org;
	struct vt_uuid org;
	int64_t time_us;
	char *actor_type;
	int has_actor_id;
	struct vt_uuid actor_id;
	char *actor_email;   /* NULL for SQL NULL, likewise below */
	char *action;
	char *resource_type;
	char *resource_id;
	char *outcome;
	char *source_ip;
	char *request_id;
	char *detail;
	int64_t seq;
	int64_t index;       /* position in the org's Merkle log; -1 until sequenced */
};

struct audit_filter {
	const char *action;         /* exact action name */
	const struct vt_uuid *actor; /* actor id */
	const char *actor_email;
	const char *resource;       /* resource id */
	int has_after;
	int64_t after_us;           /* rows strictly after this time */
	int has_before;
	int64_t before_us;          /* rows strictly before this time */
	int64_t cursor_seq;         /* 0: start */
	int ascending;              /* 0: newest first (audit), 1: oldest first (events) */
	int limit;
};

/* Who did it and from where: filled once per request, reused for every event it records. */
struct audit_actor {
	enum audit_actor_type type;
	int has_id;
	struct vt_uuid id;
	const char *email;      /* borrowed */
	const char *source_ip;  /* borrowed */
	const char *request_id; /* borrowed */
};

/* audit_append() with the actor's fields; resource_id may be a UUID string or NULL. */
int audit_record(struct db_tx *tx, const struct audit_actor *who, const char *action,
    const char *resource_type, const char *resource_id, enum audit_outcome outcome,
    const json_t *detail) VT_WUR;

/* Appends one row to the transaction's org (db_tx_set_org must have been called). */
int audit_append(struct db_tx *tx, const struct audit_event *ev) VT_WUR;
/* Appends a system row (org_id NULL, visible to no tenant), e.g. a login for an unknown e-mail. */
int audit_append_system(struct db_tx *tx, const struct audit_event *ev) VT_WUR;

/* Reads rows of the transaction's org (RLS-scoped). *rows is owned by the caller. */
int audit_list(struct db_tx *tx, const struct audit_filter *f, struct audit_row **rows, int *n,
    int64_t *next_seq) VT_WUR;
void audit_rows_free(struct audit_row *rows, int n);

/*
 * Fills *a from the 13 columns at c.. of result row i, in the order AUDIT_ROW_COLUMNS lists
 * (strings owned by *a; release with audit_row_clear). seq is left 0.
 */
#define AUDIT_ROW_COLUMNS "id, org_id, (extract(epoch FROM time) * 1000000)::bigint, " \
	"actor_type, actor_id, actor_email, action, resource_type, resource_id, outcome, " \
	"source_ip, request_id, detail"
int audit_row_from_res(const struct db_res *res, int i, int c, struct audit_row *a) VT_WUR;
void audit_row_clear(struct audit_row *a);

/* The canonical encoding (docs/audit.md) of a row, appended to out. */
int audit_row_canonical(const struct audit_row *row, struct vbuf *out) VT_WUR;

/* API shapes: {id,index,time,action,actor,resource,outcome,source_ip,detail} and the Events API. */
json_t *audit_row_json(const struct audit_row *row);
json_t *audit_row_event_json(const struct audit_row *row);

/* Catalog entry of an action: title, category and severity (unknown actions get defaults). */
struct audit_catalog_entry {
	const char *action;
	const char *title;
	const char *category;
	const char *severity; /* info, low, medium, high, critical */
};
const struct audit_catalog_entry *audit_catalog_lookup(const char *action);

const char *audit_actor_type_str(enum audit_actor_type t);
const char *audit_outcome_str(enum audit_outcome o);

#endif
