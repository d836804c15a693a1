/*
 * `vaultterm vault ls|create|rm|members|grant|revoke`: vaults and who may use them. A vault is
 * named by its id or its name, a user by id or e-mail; names are resolved here (and by `secret`)
 * through the same list endpoints the console uses, so the CLI needs no lookup API of its own.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char VAULT_USAGE[] =
    "usage: vaultterm vault <subcommand>\n\n"
    "  ls                              the vaults you can read, with your role in each\n"
    "  create NAME [--description D]   create a vault; you become its OWNER\n"
    "  rm VAULT                        delete a vault and every secret in it\n"
    "  members VAULT                   list the vault's members and their roles\n"
    "  grant VAULT USER ROLE           give USER the role VIEWER, EDITOR, ADMIN or OWNER\n"
    "  revoke VAULT USER               remove USER from the vault\n\n"
    "VAULT is a vault id or name; USER a user id or the e-mail of a member of the\n"
    "organization. Run `vaultterm vault <subcommand> --help` for details.\n";

static const char LS_USAGE[] =
    "usage: vaultterm vault ls\n\n"
    "Lists the vaults you can read: id, name, your effective role, description, creation time.\n";
static const char CREATE_USAGE[] =
    "usage: vaultterm vault create NAME [--description D]\n\n"
    "Creates a vault in the active organization. You become its OWNER.\n";
static const char RM_USAGE[] =
    "usage: vaultterm vault rm VAULT\n\n"
    "Deletes the vault and every secret in it (needs OWNER). VAULT is an id or a name.\n";
static const char MEMBERS_USAGE[] =
    "usage: vaultterm vault members VAULT\n\n"
    "Lists the vault's members: user id, e-mail, name, role, since when.\n";
static const char GRANT_USAGE[] =
    "usage: vaultterm vault grant VAULT USER ROLE\n\n"
    "Adds USER to the vault with ROLE, or changes their role (needs ADMIN or OWNER).\n"
    "USER is a user id or the e-mail of a member of the organization; ROLE is VIEWER\n"
    "(read), EDITOR (+ write), ADMIN (+ delete secrets, manage members) or OWNER\n"
    "(+ rename or delete the vault).\n";
static const char REVOKE_USAGE[] =
    "usage: vaultterm vault revoke VAULT USER\n\n"
    "Removes USER (user id or e-mail) from the vault (needs ADMIN or OWNER).\n";

int
cli_vault_resolve(const char *ref, char **id)
{
	json_t *items = NULL, *v;
	const char *found = NULL;
	size_t i, n = 0;
	int r;

	*id = NULL;
	if (cli_is_uuid(ref)) {
		*id = xstrdup(ref);
		return 0;
	}
	if ((r = cli_list_all("/api/vault/vaults", &items)) != 0)
		return r;
	json_array_foreach(items, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		if (name != NULL && strcmp(name, ref) == 0) {
			found = json_string_value(json_object_get(v, "id"));
			n++;
		}
	}
	if (n == 1 && found != NULL) {
		*id = xstrdup(found);
		r = 0;
	} else {
		if (n == 0)
			fprintf(stderr, "vaultterm: you have no vault named '%s' (see `vaultterm "
					"vault ls`)\n", ref);
		else
			fprintf(stderr, "vaultterm: %zu vaults are named '%s'; name it by its id "
					"(see `vaultterm vault ls`)\n", n, ref);
		r = CLI_EXIT_API;
	}
	json_decref(items);
	return r;
}

int
cli_user_resolve(const char *ref, char **id)
{
	json_t *items = NULL, *m;
	const char *found = NULL;
	size_t i, n = 0;
	int r;

	*id = NULL;
	if (cli_is_uuid(ref)) {
		*id = xstrdup(ref);
		return 0;
	}
	if (strchr(ref, '@') == NULL) {
		fprintf(stderr, "vaultterm: '%s' is neither a user id nor an e-mail\n", ref);
		return CLI_EXIT_USAGE;
	}
	if ((r = cli_list_all("/api/orgs/current/members?limit=500", &items)) != 0)
		return r;
	json_array_foreach(items, i, m) {
		const char *email = json_string_value(json_object_get(m, "email"));

		/* E-mails are stored lower-cased; compare the way the server does. */
		if (email != NULL && strcasecmp(email, ref) == 0) {
			found = json_string_value(json_object_get(m, "user_id"));
			n++;
		}
	}
	if (n == 1 && found != NULL) {
		*id = xstrdup(found);
		r = 0;
	} else {
		fprintf(stderr, "vaultterm: %s is not a member of this organization (see `vaultterm "
				"org members`)\n", ref);
		r = CLI_EXIT_API;
	}
	json_decref(items);
	return r;
}

/* Prints a list response as a table, or the whole response as JSON. */
static int
vault_ls(const struct cli_args *a)
{
	static const char *const cols[] = { "id", "name", "role", "description", "created_at" };
	static const char *const hdrs[] = { "ID", "NAME", "ROLE", "DESCRIPTION", "CREATED" };
	json_t *items = NULL;
	int r;

	if ((r = cli_list_all("/api/vault/vaults", &items)) != 0)
		return r;
	return cli_print_items(a, items, cols, hdrs, VT_NELEM(cols));
}

static int
vault_create(const struct cli_args *a)
{
	json_t *body, *resp = NULL;
	const char *desc = cli_opt(a, "description");
	int r;

	body = json_pack("{s:s}", "name", a->positional[1]);
	if (body == NULL) {
		fprintf(stderr, "vaultterm vault create: the name is not valid UTF-8\n");
		return CLI_EXIT_USAGE;
	}
	if (desc != NULL && json_object_set_new(body, "description", json_string(desc)) != 0) {
		fprintf(stderr, "vaultterm vault create: the description is not valid UTF-8\n");
		json_decref(body);
		return CLI_EXIT_USAGE;
	}
	r = cli_call("POST", "/api/vault/vaults", body, 1, &resp);
	json_decref(body);
	if (r != 0)
		return r;
	if (a->format == CLI_FORMAT_JSON)
		cli_print_json(resp);
	else
		printf("Created vault %s (%s).\n", json_string_value(json_object_get(resp, "name")),
		    json_string_value(json_object_get(resp, "id")));
	json_decref(resp);
	return 0;
}

static int
vault_rm(const struct cli_args *a)
{
	json_t *resp = NULL;
	char *id = NULL, *path;
	int r;

	if ((r = cli_vault_resolve(a->positional[1], &id)) != 0)
		return r;
	path = xasprintf("/api/vault/vaults/%s", id);
	r = cli_call("DELETE", path, NULL, 1, &resp);
	free(path);
	json_decref(resp);
	if (r == 0 && a->format == CLI_FORMAT_JSON) {
		json_t *o = json_pack("{s:s, s:b}", "vault_id", id, "deleted", 1);

		cli_print_json(o);
		json_decref(o);
	} else if (r == 0) {
		printf("Vault deleted.\n");
	}
	free(id);
	return r;
}

static int
vault_members(const struct cli_args *a)
{
	static const char *const cols[] = { "user_id", "email", "name", "role", "created_at" };
	static const char *const hdrs[] = { "USER ID", "EMAIL", "NAME", "ROLE", "SINCE" };
	json_t *items = NULL;
	char *id = NULL, *path;
	int r;

	if ((r = cli_vault_resolve(a->positional[1], &id)) != 0)
		return r;
	path = xasprintf("/api/vault/vaults/%s/members", id);
	free(id);
	r = cli_list_all(path, &items);
	free(path);
	if (r != 0)
		return r;
	return cli_print_items(a, items, cols, hdrs, VT_NELEM(cols));
}

static int
vault_grant(const struct cli_args *a)
{
	json_t *body = NULL, *resp = NULL;
	char *vid = NULL, *uid = NULL, *path = NULL, *role;
	int r;

	/* Roles are upper case on the wire; accept `editor` too. */
	role = xstrdup(a->positional[3]);
	for (char *p = role; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	if ((r = cli_vault_resolve(a->positional[1], &vid)) != 0 ||
	    (r = cli_user_resolve(a->positional[2], &uid)) != 0)
		goto out;
	path = xasprintf("/api/vault/vaults/%s/members/%s", vid, uid);
	if ((body = json_pack("{s:s}", "role", role)) == NULL) {
		fprintf(stderr, "vaultterm vault grant: the role is not valid UTF-8\n");
		r = CLI_EXIT_USAGE;
		goto out;
	}
	if ((r = cli_call("PUT", path, body, 1, &resp)) != 0)
		goto out;
	if (a->format == CLI_FORMAT_JSON)
		cli_print_json(resp);
	else
		printf("%s is now %s of vault %s.\n", a->positional[2],
		    json_string_value(json_object_get(resp, "role")), a->positional[1]);
 out:
	json_decref(body);
	json_decref(resp);
	free(role);
	free(path);
	free(vid);
	free(uid);
	return r;
}

static int
vault_revoke(const struct cli_args *a)
{
	json_t *resp = NULL;
	char *vid = NULL, *uid = NULL, *path = NULL;
	int r;

	if ((r = cli_vault_resolve(a->positional[1], &vid)) != 0 ||
	    (r = cli_user_resolve(a->positional[2], &uid)) != 0)
		goto out;
	path = xasprintf("/api/vault/vaults/%s/members/%s", vid, uid);
	if ((r = cli_call("DELETE", path, NULL, 1, &resp)) != 0)
		goto out;
	if (a->format == CLI_FORMAT_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:b}", "vault_id", vid, "user_id", uid, "removed",
		    1);

		cli_print_json(o);
		json_decref(o);
	} else {
		printf("%s removed from vault %s.\n", a->positional[2], a->positional[1]);
	}
 out:
	json_decref(resp);
	free(path);
	free(vid);
	free(uid);
	return r;
}

int
cmd_vault_main(int argc, char **argv)
{
	static const struct cli_optspec create_specs[] = { { "description", 1, 0 } };
	static const struct cli_subcmd subs[] = {
		{ "ls", LS_USAGE, NULL, 0, 0, 0, vault_ls },
		{ "create", CREATE_USAGE, create_specs, VT_NELEM(create_specs), 1, 1, vault_create },
		{ "rm", RM_USAGE, NULL, 0, 1, 1, vault_rm },
		{ "members", MEMBERS_USAGE, NULL, 0, 1, 1, vault_members },
		{ "grant", GRANT_USAGE, NULL, 0, 3, 3, vault_grant },
		{ "revoke", REVOKE_USAGE, NULL, 0, 2, 2, vault_revoke },
	};
	const struct cli_subcmd *sub;
	struct cli_args a;
	int r;

	if ((r = cli_parse_sub(argc, argv, subs, VT_NELEM(subs), VAULT_USAGE, &sub, &a)) != 0)
		return r == 1 ? 0 : r;
	return sub->run(&a);
}
