/*
 * Vaults and vault membership. Only users hold vault roles (API tokens act through scopes and
 * cannot create vaults or manage members). A vault member must be a member of the org; leaving
 * the org drops every vault role in it (trigger in migration 0002). Nobody grants a role above
 * their own effective role, or changes the role of someone above them.
 */
#include "vault/vault_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"

#define VAULT_COLUMNS                                                                              \
	"v.id, v.name, v.description, " DB_SQL_RFC3339("v.created_at") ", "                         \
	DB_SQL_RFC3339("v.updated_at") ", vm.role"

int
vault_access(struct db_tx *tx, const struct principal *p, const struct vt_uuid *vault,
    enum vault_gate gate, enum vault_role *eff)
{
	struct db_params prm;
	struct db_res *res = NULL;
	enum vault_role member = VAULT_ROLE_NONE;
	int r;

	*eff = VAULT_ROLE_NONE;
	db_params_init(&prm);
	db_param_uuid(&prm, vault);
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	r = db_query(tx, "SELECT vm.role FROM vaults v LEFT JOIN vault_members vm "
			 "ON vm.vault_id = v.id AND vm.user_id = $2 WHERE v.id = $1", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND;
	}
	if (!db_res_isnull(res, 0, 0))
		member = authz_vault_role_parse(db_res_text(res, 0, 0));
	db_res_free(res);
	*eff = authz_vault_effective(p, member);
	return authz_check(p, member, gate);
}

static json_t *
vault_json(const struct db_res *res, int i, enum vault_role eff)
{
	return json_packx("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", db_res_text(res, i, 0), "name",
	    db_res_text(res, i, 1), "description", db_res_text(res, i, 2), "role",
	    authz_vault_role_str(eff), "created_at", db_res_text(res, i, 3), "updated_at",
	    db_res_text(res, i, 4));
}

static int
vault_fetch(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id, json_t **out)
{
	struct db_params prm;
	struct db_res *res = NULL;
	enum vault_role member;
	int r;

	*out = NULL;
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	r = db_query(tx, "SELECT " VAULT_COLUMNS " FROM vaults v LEFT JOIN vault_members vm "
			 "ON vm.vault_id = v.id AND vm.user_id = $2 WHERE v.id = $1", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND;
	}
	member = db_res_isnull(res, 0, 5) ? VAULT_ROLE_NONE :
	    authz_vault_role_parse(db_res_text(res, 0, 5));
	*out = vault_json(res, 0, authz_vault_effective(p, member));
	db_res_free(res);
	return 0;
}

int
vault_create(struct db_tx *tx, const struct principal *p, const json_t *body,
    const struct audit_actor *who, json_t **out, char err[static VAULT_ERR_MAX])
{
	const char *name = json_get_str(body, "name");
	const char *desc = json_get_str(body, "description");
	char vid[UUID_STR_LEN + 1];
	struct db_params prm;
	struct vt_uuid id;
	json_t *d;
	int r;

	*out = NULL;
	if (p->kind != PRINCIPAL_USER) {
		snprintf(err, VAULT_ERR_MAX, "vaults are created by users, not API tokens");
		return VT_ERR_FORBIDDEN;
	}
	uuid_random(&id);
	db_params_init(&prm);
	db_param_uuid(&prm, &id);
	db_param_uuid(&prm, &p->org_id);
	db_param_text(&prm, name);
	db_param_text(&prm, desc != NULL ? desc : "");
	db_param_uuid(&prm, &p->user_id);
	r = db_query(tx, "INSERT INTO vaults (id, org_id, name, description, created_by) "
			 "VALUES ($1, $2, $3, $4, $5)", &prm, NULL);
	db_params_free(&prm);
	if (r == VT_ERR_CONFLICT)
		snprintf(err, VAULT_ERR_MAX, "a vault with this name already exists");
	if (r != 0)
		return r;
	db_params_init(&prm);
	db_param_uuid(&prm, &p->org_id);
	db_param_uuid(&prm, &id);
	db_param_uuid(&prm, &p->user_id);
	r = db_query(tx, "INSERT INTO vault_members (org_id, vault_id, user_id, role) "
			 "VALUES ($1, $2, $3, 'OWNER')", &prm, NULL);
	db_params_free(&prm);
	if (r != 0)
		return r;
	uuid_format(&id, vid);
	d = json_packx("{s:s}", "name", name);
	r = audit_record(tx, who, "VAULT_CREATED", "vault", vid, AUDIT_SUCCESS, d);
	json_decref(d);
	if (r != 0)
		return r;
	return vault_fetch(tx, p, &id, out);
}

int
vault_list(struct db_tx *tx, const struct principal *p, int limit, const char *cursor,
    json_t **out)
{
	struct db_params prm;
	struct db_res *res = NULL;
	json_t *items;
	int r, i, n;
	/* Org owners/admins and vault-scoped tokens read every vault; others their own. */
	int sees_all = authz_vault_effective(p, VAULT_ROLE_NONE) >= VAULT_ROLE_VIEWER;

	*out = NULL;
	db_params_init(&prm);
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	db_param_bool(&prm, sees_all);
	db_param_text(&prm, cursor);
	db_param_int(&prm, limit + 1);
	r = db_query(tx, "SELECT " VAULT_COLUMNS " FROM vaults v LEFT JOIN vault_members vm "
			 "ON vm.vault_id = v.id AND vm.user_id = $1 "
			 "WHERE ($2 OR vm.role IS NOT NULL) AND ($3::uuid IS NULL OR v.id > $3::uuid) "
			 "ORDER BY v.id LIMIT $4", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	items = json_array();
	n = db_page_rows(res, limit);
	for (i = 0; i < n; i++) {
		enum vault_role member = db_res_isnull(res, i, 5) ? VAULT_ROLE_NONE :
		    authz_vault_role_parse(db_res_text(res, i, 5));

		json_array_append_new(items, vault_json(res, i, authz_vault_effective(p, member)));
	}
	*out = json_packx("{s:o, s:s?}", "items", items, "next_cursor",
	    db_page_next(res, limit, 0));
	db_res_free(res);
	return 0;
}

int
vault_get(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id, json_t **out)
{
	enum vault_role eff;
	int r;

	*out = NULL;
	if ((r = vault_access(tx, p, id, GATE_READ, &eff)) != 0)
		return r;
	return vault_fetch(tx, p, id, out);
}

int
vault_update(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const json_t *body, const struct audit_actor *who, json_t **out, char err[static VAULT_ERR_MAX])
{
	const char *name = json_get_str(body, "name");
	const char *desc = json_get_str(body, "description");
	char vid[UUID_STR_LEN + 1];
	struct db_params prm;
	enum vault_role eff;
	json_t *d;
	int r;

	*out = NULL;
	if ((r = vault_access(tx, p, id, GATE_MANAGE_VAULT, &eff)) != 0)
		return r;
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	db_param_text(&prm, name);
	db_param_text(&prm, desc);
	r = db_exec_one(tx, "UPDATE vaults SET name = coalesce($2, name), "
			    "description = coalesce($3, description), updated_at = now() WHERE id = $1",
	    &prm);
	db_params_free(&prm);
	if (r == VT_ERR_CONFLICT)
		snprintf(err, VAULT_ERR_MAX, "a vault with this name already exists");
	if (r != 0)
		return r;
	uuid_format(id, vid);
	d = json_packx("{s:s?, s:b}", "name", name, "description_changed", desc != NULL);
	r = audit_record(tx, who, "VAULT_UPDATED", "vault", vid, AUDIT_SUCCESS, d);
	json_decref(d);
	if (r != 0)
		return r;
	return vault_fetch(tx, p, id, out);
}

int
vault_delete(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct audit_actor *who)
{
	struct db_params prm;
	struct db_res *res = NULL;
	char vid[UUID_STR_LEN + 1];
	enum vault_role eff;
	json_t *d;
	int r;

	if ((r = vault_access(tx, p, id, GATE_MANAGE_VAULT, &eff)) != 0)
		return r;
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	/*
	 * The secrets and their versions (ciphertexts) go with the vault. Not crypto-shredding:
	 * copies live on in WAL and backups until they age out, still encrypted.
	 */
	r = db_query(tx, "WITH s AS (SELECT count(*) AS n FROM secrets WHERE vault_id = $1), "
			 "d AS (DELETE FROM vaults WHERE id = $1 RETURNING name) "
			 "SELECT d.name, s.n FROM d, s", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND;
	}
	uuid_format(id, vid);
	{
		int64_t n = 0;

		if (db_res_int(res, 0, 1, &n) != 0)
			n = -1;
		d = json_packx("{s:s, s:I}", "name", db_res_text(res, 0, 0), "secrets_deleted",
		    (json_int_t)n);
	}
	db_res_free(res);
	r = audit_record(tx, who, "VAULT_DELETED", "vault", vid, AUDIT_SUCCESS, d);
	json_decref(d);
	return r;
}

int
vault_members(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id, int limit,
    const char *cursor, json_t **out)
{
	struct db_params prm;
	struct db_res *res = NULL;
	enum vault_role eff;
	json_t *items;
	int r, i, n;

	*out = NULL;
	if ((r = vault_access(tx, p, id, GATE_READ, &eff)) != 0)
		return r;
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	db_param_text(&prm, cursor);
	db_param_int(&prm, limit + 1);
	r = db_query(tx, "SELECT vm.user_id, u.email, u.name, vm.role, "
			 DB_SQL_RFC3339("vm.created_at") " FROM vault_members vm "
			 "JOIN users u ON u.id = vm.user_id WHERE vm.vault_id = $1 "
			 "AND ($2::uuid IS NULL OR vm.user_id > $2::uuid) "
			 "ORDER BY vm.user_id LIMIT $3", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	items = json_array();
	n = db_page_rows(res, limit);
	for (i = 0; i < n; i++)
		json_array_append_new(items, json_packx("{s:s, s:s, s:s, s:s, s:s}", "user_id",
		    db_res_text(res, i, 0), "email", db_res_text(res, i, 1), "name",
		    db_res_text(res, i, 2), "role", db_res_text(res, i, 3), "created_at",
		    db_res_text(res, i, 4)));
	*out = json_packx("{s:o, s:s?}", "items", items, "next_cursor",
	    db_page_next(res, limit, 0));
	db_res_free(res);
	return 0;
}

/*
 * After checking that the target is a member of this org: its current vault role (*cur, NONE if
 * not a vault member) and the role it acts with on the vault (*eff: org owners and admins are
 * OWNER on every vault, so a vault ADMIN cannot change their entry).
 */
static int
member_target(struct db_tx *tx, const struct vt_uuid *vault, const struct vt_uuid *user,
    enum vault_role *cur, enum vault_role *eff)
{
	struct principal t;
	struct db_params prm;
	struct db_res *res = NULL;
	int r;

	*cur = VAULT_ROLE_NONE;
	*eff = VAULT_ROLE_NONE;
	db_params_init(&prm);
	db_param_uuid(&prm, vault);
	db_param_uuid(&prm, user);
	r = db_query(tx, "SELECT vm.role, m.org_role FROM memberships m LEFT JOIN vault_members vm "
			 "ON vm.vault_id = $1 AND vm.user_id = m.user_id WHERE m.user_id = $2 "
			 "FOR UPDATE OF m", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND; /* not a member of this org */
	}
	if (!db_res_isnull(res, 0, 0))
		*cur = authz_vault_role_parse(db_res_text(res, 0, 0));
	memset(&t, 0, sizeof(t));
	t.kind = PRINCIPAL_USER;
	t.org_role = authz_role_parse(db_res_text(res, 0, 1));
	*eff = authz_vault_effective(&t, *cur);
	db_res_free(res);
	return 0;
}

static int
member_audit(struct db_tx *tx, const struct audit_actor *who, const struct vt_uuid *vault,
    const struct vt_uuid *user, enum vault_role from, enum vault_role to)
{
	char vid[UUID_STR_LEN + 1], uid[UUID_STR_LEN + 1];
	json_t *d;
	int r;

	uuid_format(vault, vid);
	uuid_format(user, uid);
	d = json_packx("{s:s, s:s?, s:s?}", "user_id", uid, "from",
	    from == VAULT_ROLE_NONE ? NULL : authz_vault_role_str(from), "to",
	    to == VAULT_ROLE_NONE ? NULL : authz_vault_role_str(to));
	r = audit_record(tx, who, "VAULT_MEMBER_CHANGED", "vault", vid, AUDIT_SUCCESS, d);
	json_decref(d);
	return r;
}

int
vault_member_put(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct vt_uuid *user, const char *role_s, const struct audit_actor *who, json_t **out,
    char err[static VAULT_ERR_MAX])
{
	enum vault_role role = authz_vault_role_parse(role_s), eff, cur, target;
	char vid[UUID_STR_LEN + 1], uid[UUID_STR_LEN + 1];
	struct db_params prm;
	int r;

	*out = NULL;
	/* Access first: a vault the caller cannot see answers 404 whatever the body says. */
	if ((r = vault_access(tx, p, id, GATE_MANAGE_MEMBERS, &eff)) != 0)
		return r;
	if (role == VAULT_ROLE_NONE) {
		snprintf(err, VAULT_ERR_MAX, "field 'role': must be VIEWER, EDITOR, ADMIN or OWNER");
		return VT_ERR_VALIDATION;
	}
	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	if ((r = member_target(tx, id, user, &cur, &target)) != 0) {
		if (r == VT_ERR_NOT_FOUND)
			snprintf(err, VAULT_ERR_MAX, "no such member of this organization");
		return r;
	}
	if (role > eff || target > eff) {
		snprintf(err, VAULT_ERR_MAX, "your role on this vault (%s) cannot grant %s or change "
					     "a %s", authz_vault_role_str(eff), authz_vault_role_str(role),
		    authz_vault_role_str(target));
		return VT_ERR_FORBIDDEN;
	}
	uuid_format(id, vid);
	uuid_format(user, uid);
	if (cur != role) {
		db_params_init(&prm);
		db_param_uuid(&prm, &p->org_id);
		db_param_uuid(&prm, id);
		db_param_uuid(&prm, user);
		db_param_text(&prm, authz_vault_role_str(role));
		r = db_query(tx, "INSERT INTO vault_members (org_id, vault_id, user_id, role) "
				 "VALUES ($1, $2, $3, $4) ON CONFLICT (vault_id, user_id) "
				 "DO UPDATE SET role = EXCLUDED.role", &prm, NULL);
		db_params_free(&prm);
		if (r != 0)
			return r;
		if ((r = member_audit(tx, who, id, user, cur, role)) != 0)
			return r;
	}
	*out = json_packx("{s:s, s:s, s:s}", "vault_id", vid, "user_id", uid, "role",
	    authz_vault_role_str(role));
	return 0;
}

int
vault_member_delete(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct vt_uuid *user, const struct audit_actor *who, char err[static VAULT_ERR_MAX])
{
	enum vault_role eff, cur, target;
	struct db_params prm;
	int r, self = p->kind == PRINCIPAL_USER && uuid_eq(&p->user_id, user);

	/* Anyone may leave a vault; removing someone else needs manage_members and seniority. */
	if ((r = vault_access(tx, p, id, self ? GATE_READ : GATE_MANAGE_MEMBERS, &eff)) != 0)
		return r;
	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	if ((r = member_target(tx, id, user, &cur, &target)) != 0)
		return r;
	if (cur == VAULT_ROLE_NONE)
		return VT_ERR_NOT_FOUND;
	if (!self && target > eff) {
		snprintf(err, VAULT_ERR_MAX, "your role on this vault (%s) cannot remove a %s",
		    authz_vault_role_str(eff), authz_vault_role_str(target));
		return VT_ERR_FORBIDDEN;
	}
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	db_param_uuid(&prm, user);
	r = db_exec_one(tx, "DELETE FROM vault_members WHERE vault_id = $1 AND user_id = $2", &prm);
	db_params_free(&prm);
	if (r != 0)
		return r;
	return member_audit(tx, who, id, user, cur, VAULT_ROLE_NONE);
}
