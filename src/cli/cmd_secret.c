/*
 * `vaultterm secret put|get|reveal|ls|rm|totp`: typed secrets in vaults. Values reach `put` as
 * key=value (visible to local users in /proc while the command runs), key=@file, key=- (stdin) or
 * a JSON object on stdin; they travel only in request bodies and come back only from `reveal`.
 * Every buffer that held a value is wiped: file and stdin buffers here, JSON values by the wiping
 * allocator main() installs, request bodies by cli_call.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/num.h"
#include "base/vbuf.h"

#define SECRET_CLI_INPUT_MAX ((size_t)1 << 20) /* a field file, a stdin value, stdin JSON */
#define SECRET_CLI_CAS_MAX ((uint64_t)1 << 53)

static const char SECRET_USAGE[] =
    "usage: vaultterm secret <subcommand>\n\n"
    "  put VAULT NAME [--type TYPE] [FIELD=VALUE|FIELD=@FILE|FIELD=- ...] [--tag T ...]\n"
    "      [--inject-only] [--cas N] [--json]\n"
    "                                 create the secret NAME, or store a new version of it\n"
    "  get SECRET                     its metadata (never a value)\n"
    "  ls VAULT                       the secrets of a vault (metadata)\n"
    "  reveal SECRET [--reason R] [--field F]\n"
    "                                 its values (audited)\n"
    "  totp SECRET                    the current code of a TOTP secret (audited)\n"
    "  rm SECRET                      delete the secret and all its versions\n\n"
    "VAULT is a vault id or name; SECRET a secret id or VAULT/NAME.\n"
    "Run `vaultterm secret <subcommand> --help` for details.\n";

static const char PUT_USAGE[] =
    "usage: vaultterm secret put VAULT NAME [--type TYPE] [FIELD=VALUE ...] [--tag T ...]\n"
    "                            [--inject-only] [--cas N] [--json]\n\n"
    "Creates the secret NAME in VAULT (--type is then required) or, if VAULT already has a\n"
    "secret NAME, stores a new version of it with the given fields (--type may be left out;\n"
    "if given it must match). Fields:\n"
    "  FIELD=VALUE      the value as given. WARNING: arguments are visible to every local\n"
    "                   user (ps, /proc) while the command runs, and may land in your shell\n"
    "                   history: use FIELD=@FILE or FIELD=- for real secrets\n"
    "  FIELD=@FILE      the content of FILE, byte for byte (e.g. private_key=@~/.ssh/id_ed25519)\n"
    "  FIELD=-          one value from stdin: prompted for without echo on a terminal, else all\n"
    "                   of stdin less one trailing newline (FIELD=@/dev/stdin keeps it)\n"
    "  custom.KEY=...   an entry of a PASSWORD's custom fields\n"
    "With no FIELD arguments (or with --json) the fields are one JSON object read from stdin,\n"
    "e.g. echo '{\"password\":\"...\"}' | vaultterm secret put ops db --type PASSWORD\n"
    "TOTP digits and period given as FIELD=VALUE are sent as integers.\n\n"
    "Types and their fields (* required):\n"
    "  PASSWORD      password*, username, url, notes, custom.KEY\n"
    "  API_KEY       key*, label, service, notes\n"
    "  SSH_KEY       private_key* (OpenSSH/PEM Ed25519, RSA, ECDSA), passphrase, public_key\n"
    "  ENV_VAR       name*, value*\n"
    "  SECURE_NOTE   body*, title\n"
    "  TOTP          seed* (base32 or otpauth:// URI), issuer, account, digits, period,\n"
    "                algorithm\n"
    "  PAYMENT_CARD  number*, cardholder, expiry, cvv, notes\n"
    "  IDENTITY      name, address, email, phone, document_number, notes (at least one)\n"
    "  PASSKEY       rp_id*, credential_id*, private_key*, user_handle\n\n"
    "Options:\n"
    "  --type TYPE     one of the types above\n"
    "  --tag T         a tag (repeat for several); on an update, replaces the tags\n"
    "  --inject-only   the secret can be injected into sessions but never revealed\n"
    "  --cas N         only if the current version is N (0: only if NAME does not exist yet);\n"
    "                  else exit 1 (version_mismatch)\n"
    "  --json          read the fields as a JSON object from stdin\n";

static const char GET_USAGE[] =
    "usage: vaultterm secret get SECRET\n\n"
    "Shows a secret's metadata: id, vault, type, name, tags, inject-only, version, who created\n"
    "and last updated it, and when. Never a value. SECRET is a secret id or VAULT/NAME.\n";
static const char LS_USAGE[] =
    "usage: vaultterm secret ls VAULT\n\n"
    "Lists the secrets of VAULT (an id or a name): id, name, type, version, tags,\n"
    "inject-only, last update. Never a value.\n";
static const char REVEAL_USAGE[] =
    "usage: vaultterm secret reveal SECRET [--reason R] [--field F]\n\n"
    "Prints the secret's current values as a FIELD/VALUE table (control characters shown as\n"
    "?), or -format=json. With --field F only that value is printed, raw, followed by a newline\n"
    "unless it already ends with one: e.g. PGPASSWORD=$(vaultterm secret reveal ops/db --field\n"
    "password), or --field private_key > key (F may be custom.KEY). The reveal is audited with\n"
    "the --reason. Inject-only secrets cannot be revealed (exit 1, forbidden).\n"
    "SECRET is a secret id or VAULT/NAME.\n";
static const char TOTP_USAGE[] =
    "usage: vaultterm secret totp SECRET\n\n"
    "Prints the current code of a TOTP secret (-format=json: code, digits, period and\n"
    "remaining_seconds). Audited. SECRET is a secret id or VAULT/NAME.\n";
static const char RM_USAGE[] =
    "usage: vaultterm secret rm SECRET\n\n"
    "Deletes the secret and all its versions (needs ADMIN or OWNER on the vault).\n"
    "SECRET is a secret id or VAULT/NAME.\n";

/*
 * The secret NAME in vault vid: 0 with *meta (its metadata, owned by the caller) or *meta NULL if
 * there is none; else a CLI exit code.
 */
static int
secret_find(const char *vid, const char *name, json_t **meta)
{
	json_t *items = NULL, *s;
	char *path = xasprintf("/api/vault/vaults/%s/secrets?limit=500", vid);
	size_t i, n = 0;
	int r;

	*meta = NULL;
	r = cli_list_all(path, &items);
	free(path);
	if (r != 0)
		return r;
	json_array_foreach(items, i, s) {
		const char *sn = json_string_value(json_object_get(s, "name"));

		if (sn != NULL && strcmp(sn, name) == 0) {
			json_decref(*meta);
			*meta = json_incref(s);
			n++;
		}
	}
	json_decref(items);
	if (n > 1) {
		fprintf(stderr, "vaultterm: %zu secrets are named '%s'; name it by its id\n", n, name);
		json_decref(*meta);
		*meta = NULL;
		return CLI_EXIT_API;
	}
	return 0;
}

/*
 * SECRET: a secret id, or VAULT/NAME where VAULT is a vault name or id. A NAME may contain '/',
 * and so may a vault name: every split that names a vault is tried, and exactly one must name a
 * secret. *id is owned by the caller.
 */
static int
secret_resolve(const char *ref, char **id)
{
	json_t *vaults = NULL, *v, *meta = NULL;
	size_t i, nvault = 0, nfound = 0;
	int r;

	*id = NULL;
	if (cli_is_uuid(ref)) {
		*id = xstrdup(ref);
		return 0;
	}
	if (strchr(ref, '/') == NULL) {
		fprintf(stderr, "vaultterm: '%s' is not a secret id or VAULT/NAME\n", ref);
		return CLI_EXIT_USAGE;
	}
	if ((r = cli_list_all("/api/vault/vaults", &vaults)) != 0)
		return r;
	json_array_foreach(vaults, i, v) {
		const char *vid = json_string_value(json_object_get(v, "id"));
		const char *vn = json_string_value(json_object_get(v, "name"));
		const char *keys[2] = { vn, vid };
		size_t k;

		for (k = 0; k < 2; k++) {
			size_t len = keys[k] != NULL ? strlen(keys[k]) : 0;

			if (len == 0 || strncmp(ref, keys[k], len) != 0 || ref[len] != '/' ||
			    ref[len + 1] == '\0')
				continue;
			nvault++;
			if ((r = secret_find(vid, ref + len + 1, &meta)) != 0)
				goto out;
			if (meta != NULL) {
				const char *sid = json_string_value(json_object_get(meta, "id"));

				nfound++;
				free(*id);
				*id = sid != NULL ? xstrdup(sid) : NULL;
				json_decref(meta);
				meta = NULL;
			}
			break;
		}
	}
	if (nfound == 1 && *id != NULL) {
		r = 0;
		goto out;
	}
	if (nfound > 1)
		fprintf(stderr, "vaultterm: '%s' names %zu secrets (vault names repeat or contain "
				"'/'); name it by its id\n", ref, nfound);
	else if (nvault == 0)
		fprintf(stderr, "vaultterm: '%s' does not start with the name of one of your vaults "
				"(see `vaultterm vault ls`)\n", ref);
	else
		fprintf(stderr, "vaultterm: no secret '%s' (see `vaultterm secret ls VAULT`)\n", ref);
	r = CLI_EXIT_API;
 out:
	if (r != 0) {
		free(*id);
		*id = NULL;
	}
	json_decref(vaults);
	return r;
}

/*
 * Reads all of fd (at most SECRET_CLI_INPUT_MAX bytes) into a new vbuf (wiped on vbuf_free).
 * Returns 0 or a CLI exit code with the error printed (naming `what`, never the content).
 */
static int
read_all(int fd, const char *what, struct vbuf **out)
{
	struct vbuf *b = vbuf_new(SECRET_CLI_INPUT_MAX);
	uint8_t chunk[4096];
	ssize_t n;
	int r = CLI_EXIT_LOCAL;

	*out = NULL;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "vaultterm: cannot read %s: %s\n", what, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (vbuf_put(b, chunk, (size_t)n) != 0) {
			fprintf(stderr, "vaultterm: %s is larger than %zu bytes\n", what,
			    SECRET_CLI_INPUT_MAX);
			r = CLI_EXIT_USAGE;
			goto out;
		}
	}
	*out = b;
	b = NULL;
	r = 0;
 out:
	sodium_memzero(chunk, sizeof(chunk));
	vbuf_free(b);
	return r;
}

/* A JSON string of the bytes p[0..n), refusing NUL bytes and invalid UTF-8 (CLI_EXIT_USAGE). */
static int
value_string(const char *key, const char *what, const uint8_t *p, size_t n, json_t **out)
{
	*out = NULL;
	if (memchr(p, '\0', n) != NULL || (*out = json_stringn((const char *)p, n)) == NULL) {
		fprintf(stderr, "vaultterm secret put: field '%s': %s is not UTF-8 text\n", key,
		    what);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* The value of one FIELD=SPEC argument (SPEC: VALUE, @FILE or -). */
static int
field_value(const char *key, const char *spec, json_t **out)
{
	struct vbuf *b = NULL;
	const uint8_t *p;
	size_t n;
	int fd, r;

	*out = NULL;
	if (spec[0] == '@') {
		if ((fd = open(spec + 1, O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "vaultterm secret put: field '%s': cannot open %s: %s\n", key,
			    spec + 1, strerror(errno));
			return CLI_EXIT_LOCAL;
		}
		r = read_all(fd, spec + 1, &b);
		close(fd);
		if (r == 0)
			r = value_string(key, spec + 1, vbuf_ptr(b), vbuf_len(b), out);
		vbuf_free(b);
		return r;
	}
	if (strcmp(spec, "-") == 0) {
		if (isatty(STDIN_FILENO)) {
			char *prompt = xasprintf("%s: ", key), *s = cli_read_secret(prompt, 0);

			free(prompt);
			if (s == NULL) {
				fprintf(stderr, "vaultterm secret put: no value for '%s'\n", key);
				return CLI_EXIT_USAGE;
			}
			r = value_string(key, "the input", (const uint8_t *)s, strlen(s), out);
			vt_str_wipe_free(s);
			return r;
		}
		if ((r = read_all(STDIN_FILENO, "stdin", &b)) != 0)
			return r;
		/* Like $(...), but only one newline: `echo "$v" |` and here-strings add one. */
		p = vbuf_ptr(b);
		n = vbuf_len(b);
		if (n > 0 && p[n - 1] == '\n')
			n--;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		r = value_string(key, "stdin", p, n, out);
		vbuf_free(b);
		return r;
	}
	return value_string(key, "the value", (const uint8_t *)spec, strlen(spec), out);
}

/* Builds the fields object from the FIELD=SPEC arguments (positional[first..]). */
static int
fields_from_args(const struct cli_args *a, int first, const char *type, json_t **out)
{
	json_t *fields = json_object(), *v = NULL, *custom;
	char *key = NULL;
	int i, r = CLI_EXIT_USAGE, stdin_used = 0;

	*out = NULL;
	for (i = first; i < a->npositional; i++) {
		const char *arg = a->positional[i], *eq = strchr(arg, '='), *spec, *k;

		free(key);
		key = xstrndup(arg, (size_t)(eq - arg)); /* checked by put_check_args */
		spec = eq + 1;
		if (strcmp(spec, "-") == 0 && stdin_used++ > 0) {
			fprintf(stderr, "vaultterm secret put: only one field can be read from stdin\n");
			goto out;
		}
		if ((r = field_value(key, spec, &v)) != 0)
			goto out;
		r = CLI_EXIT_USAGE;
		if (type != NULL && strcmp(type, "TOTP") == 0 &&
		    (strcmp(key, "digits") == 0 || strcmp(key, "period") == 0)) {
			int num;

			if (num_parse_int(json_string_value(v), 0, 1000000000, &num) != 0) {
				fprintf(stderr, "vaultterm secret put: field '%s' must be a whole "
						"number\n", key);
				goto out;
			}
			json_decref(v);
			v = json_integer(num);
		}
		if (strncmp(key, "custom.", 7) == 0) {
			k = key + 7;
			if ((custom = json_object_get(fields, "custom")) == NULL) {
				custom = json_object();
				json_object_set_new(fields, "custom", custom);
			}
			if (k[0] == '\0' || !json_is_object(custom)) {
				fprintf(stderr, "vaultterm secret put: bad field '%s'\n", key);
				goto out;
			}
		} else {
			k = key;
			custom = fields;
		}
		if (json_object_get(custom, k) != NULL) {
			fprintf(stderr, "vaultterm secret put: field '%s' given twice\n", key);
			goto out;
		}
		json_object_set_new(custom, k, v);
		v = NULL;
	}
	*out = fields;
	fields = NULL;
	r = 0;
 out:
	json_decref(v);
	json_decref(fields);
	free(key);
	return r;
}

/* The fields as one JSON object on stdin. */
static int
fields_from_stdin(json_t **out)
{
	struct vbuf *b = NULL;
	json_error_t je;
	int r;

	*out = NULL;
	if ((r = read_all(STDIN_FILENO, "stdin", &b)) != 0)
		return r;
	if (vbuf_len(b) == 0) {
		fprintf(stderr, "vaultterm secret put: no fields: give FIELD=VALUE arguments or a JSON "
				"object on stdin\n");
		vbuf_free(b);
		return CLI_EXIT_USAGE;
	}
	*out = json_loadb((const char *)vbuf_ptr(b), vbuf_len(b), JSON_REJECT_DUPLICATES, &je);
	vbuf_free(b);
	if (!json_is_object(*out)) {
		/* je.text may quote the input, which is secret: only say where. */
		fprintf(stderr, "vaultterm secret put: stdin is not one JSON object (line %d, "
				"column %d)\n", je.line, je.column);
		json_decref(*out);
		*out = NULL;
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static int
put_check_args(const struct cli_args *a, uint64_t *cas)
{
	const char *s;
	int i;

	for (i = 3; i < a->npositional; i++) {
		s = strchr(a->positional[i], '=');
		if (s == NULL || s == a->positional[i]) {
			fprintf(stderr, "vaultterm secret put: '%s' is not FIELD=VALUE, FIELD=@FILE or "
					"FIELD=-\n", a->positional[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if (cli_opt(a, "json") != NULL && a->npositional > 3) {
		fprintf(stderr, "vaultterm secret put: --json reads all fields from stdin; give no "
				"FIELD arguments\n");
		return CLI_EXIT_USAGE;
	}
	if (a->npositional == 3 && cli_opt(a, "json") == NULL && isatty(STDIN_FILENO)) {
		fprintf(stderr, "vaultterm secret put: no fields: give FIELD=VALUE arguments or a JSON "
				"object on stdin\n");
		return CLI_EXIT_USAGE;
	}
	if ((s = cli_opt(a, "cas")) != NULL && num_parse_u64(s, 0, SECRET_CLI_CAS_MAX, cas) != 0) {
		fprintf(stderr, "vaultterm secret put: --cas must be a version number\n");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static void
print_meta(const struct cli_args *a, const json_t *meta)
{
	static const char *const keys[] = { "name", "id", "vault_id", "type", "version", "tags",
		"inject_only", "created_at", "created_by", "updated_at", "updated_by" };
	static const char *const labels[] = { "Name", "Id", "Vault id", "Type", "Version", "Tags",
		"Inject-only", "Created", "Created by", "Updated", "Updated by" };

	if (a->format == CLI_FORMAT_JSON)
		cli_print_json(meta);
	else
		cli_print_object(meta, keys, labels, VT_NELEM(keys));
}

static int
secret_put(const struct cli_args *a)
{
	json_t *existing = NULL, *fields = NULL, *body = NULL, *resp = NULL, *tags;
	const char *name = a->positional[2], *etype;
	char *vid = NULL, *type = NULL, *path = NULL;
	uint64_t cas = 0;
	int r, i, has_cas = cli_opt(a, "cas") != NULL;

	if ((r = put_check_args(a, &cas)) != 0)
		return r;
	if (cli_opt(a, "type") != NULL) {
		type = xstrdup(cli_opt(a, "type"));
		for (char *p = type; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
	}
	if ((r = cli_vault_resolve(a->positional[1], &vid)) != 0 ||
	    (r = secret_find(vid, name, &existing)) != 0)
		goto out;
	r = CLI_EXIT_API;
	if (existing != NULL) {
		etype = json_string_value(json_object_get(existing, "type"));
		if (etype == NULL || json_string_value(json_object_get(existing, "id")) == NULL) {
			fprintf(stderr, "vaultterm secret put: the server's metadata of '%s' has no "
					"id or type\n", name);
			r = CLI_EXIT_LOCAL;
			goto out;
		}
		if (type != NULL && strcmp(type, etype) != 0) {
			fprintf(stderr, "vaultterm secret put: '%s' is a %s secret; --type must match "
					"or be left out\n", name, etype);
			goto out;
		}
		if (has_cas && cas == 0) {
			fprintf(stderr, "vaultterm secret put: '%s' already exists (--cas 0)\n", name);
			goto out;
		}
		free(type);
		type = xstrdup(etype);
	} else {
		if (type == NULL) {
			fprintf(stderr, "vaultterm secret put: no secret '%s' in that vault: give "
					"--type to create it\n", name);
			r = CLI_EXIT_USAGE;
			goto out;
		}
		if (has_cas && cas != 0) {
			fprintf(stderr, "vaultterm secret put: no secret '%s' in that vault (--cas %llu "
					"expects version %llu)\n", name, (unsigned long long)cas,
			    (unsigned long long)cas);
			goto out;
		}
	}
	if (a->npositional > 3)
		r = fields_from_args(a, 3, type, &fields);
	else
		r = fields_from_stdin(&fields);
	if (r != 0)
		goto out;

	body = json_pack("{s:O}", "fields", fields);
	if (cli_opt_count(a, "tag") > 0) {
		tags = json_array();
		for (i = 0; i < cli_opt_count(a, "tag"); i++) {
			if (json_array_append_new(tags, json_string(cli_opt_at(a, "tag", i))) != 0) {
				fprintf(stderr, "vaultterm secret put: a tag is not UTF-8 text\n");
				json_decref(tags);
				r = CLI_EXIT_USAGE;
				goto out;
			}
		}
		json_object_set_new(body, "tags", tags);
	}
	if (cli_opt(a, "inject-only") != NULL)
		json_object_set_new(body, "inject_only", json_true());
	if (existing != NULL) {
		if (has_cas)
			json_object_set_new(body, "cas", json_integer((json_int_t)cas));
		path = xasprintf("/api/vault/secrets/%s",
		    json_string_value(json_object_get(existing, "id")));
		r = cli_call("PUT", path, body, 1, &resp);
	} else {
		if (json_object_set_new(body, "name", json_string(name)) != 0) {
			fprintf(stderr, "vaultterm secret put: the name is not UTF-8 text\n");
			r = CLI_EXIT_USAGE;
			goto out;
		}
		json_object_set_new(body, "type", json_string(type));
		path = xasprintf("/api/vault/vaults/%s/secrets", vid);
		r = cli_call("POST", path, body, 1, &resp);
	}
	if (r != 0)
		goto out;
	if (a->format == CLI_FORMAT_JSON)
		cli_print_json(resp);
	else
		printf("%s secret %s (%s), version %lld.\n", existing != NULL ? "Updated" : "Created",
		    name, json_string_value(json_object_get(resp, "id")),
		    (long long)json_integer_value(json_object_get(resp, "version")));
 out:
	json_decref(existing);
	json_decref(fields);
	json_decref(body);
	json_decref(resp);
	free(vid);
	free(type);
	free(path);
	return r;
}

static int
secret_get(const struct cli_args *a)
{
	json_t *resp = NULL;
	char *id = NULL, *path;
	int r;

	if ((r = secret_resolve(a->positional[1], &id)) != 0)
		return r;
	path = xasprintf("/api/vault/secrets/%s", id);
	free(id);
	r = cli_call("GET", path, NULL, 1, &resp);
	free(path);
	if (r != 0)
		return r;
	print_meta(a, resp);
	json_decref(resp);
	return 0;
}

static int
secret_ls(const struct cli_args *a)
{
	static const char *const cols[] = { "id", "name", "type", "version", "tags", "inject_only",
		"updated_at" };
	static const char *const hdrs[] = { "ID", "NAME", "TYPE", "VERSION", "TAGS", "INJECT-ONLY",
		"UPDATED" };
	json_t *items = NULL;
	char *vid = NULL, *path;
	int r;

	if ((r = cli_vault_resolve(a->positional[1], &vid)) != 0)
		return r;
	path = xasprintf("/api/vault/vaults/%s/secrets?limit=500", vid);
	free(vid);
	r = cli_list_all(path, &items);
	free(path);
	if (r != 0)
		return r;
	return cli_print_items(a, items, cols, hdrs, VT_NELEM(cols));
}

static int
secret_rm(const struct cli_args *a)
{
	json_t *resp = NULL;
	char *id = NULL, *path;
	int r;

	if ((r = secret_resolve(a->positional[1], &id)) != 0)
		return r;
	path = xasprintf("/api/vault/secrets/%s", id);
	r = cli_call("DELETE", path, NULL, 1, &resp);
	free(path);
	json_decref(resp);
	if (r == 0 && a->format == CLI_FORMAT_JSON) {
		json_t *o = json_pack("{s:s, s:b}", "secret_id", id, "deleted", 1);

		cli_print_json(o);
		json_decref(o);
	} else if (r == 0) {
		printf("Secret deleted.\n");
	}
	free(id);
	return r;
}

/* Writes s for a terminal: control characters as '?', newlines continued under `indent`. */
static void
put_display(const char *s, int indent)
{
	size_t n = strlen(s);

	/* A trailing newline (a key file) is not worth an empty line. */
	if (n > 0 && s[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			printf("\n%*s", indent, "");
		else
			putchar(c < 0x20 || c == 0x7f ? '?' : c);
	}
	putchar('\n');
}

/* A FIELD/VALUE table of the revealed fields (custom entries as custom.KEY), sorted. */
static void
print_fields(const json_t *fields)
{
	const json_t *custom = json_object_get(fields, "custom");
	const char **keys;
	const char *k;
	json_t *v;
	size_t n = 0, i, w = strlen("FIELD"), cn = 0;

	keys = xcalloc(json_object_size(fields) + 1, sizeof(*keys));
	json_object_foreach((json_t *)fields, k, v) {
		if (strcmp(k, "custom") != 0 || !json_is_object(v))
			keys[n++] = k;
	}
	for (i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(keys[j], keys[i]) < 0) {
				const char *t = keys[i];

				keys[i] = keys[j];
				keys[j] = t;
			}
	for (i = 0; i < n; i++)
		if (strlen(keys[i]) > w)
			w = strlen(keys[i]);
	json_object_foreach((json_t *)custom, k, v) {
		if (strlen(k) + 7 > w)
			w = strlen(k) + 7;
		cn++;
	}
	printf("%-*s  VALUE\n", (int)w, "FIELD");
	for (i = 0; i < n; i++) {
		v = json_object_get(fields, keys[i]);
		printf("%-*s  ", (int)w, keys[i]);
		if (json_is_string(v))
			put_display(json_string_value(v), (int)w + 2);
		else if (json_is_integer(v))
			printf("%lld\n", (long long)json_integer_value(v));
		else
			printf("%s\n", json_is_null(v) ? "-" : "?");
	}
	if (cn > 0) {
		json_object_foreach((json_t *)custom, k, v) {
			printf("custom.%-*s  ", (int)(w - 7), k);
			put_display(json_is_string(v) ? json_string_value(v) : "?", (int)w + 2);
		}
	}
	free(keys);
}

static int
secret_reveal(const struct cli_args *a)
{
	json_t *body = NULL, *resp = NULL, *fields, *v;
	const char *field = cli_opt(a, "field"), *reason = cli_opt(a, "reason");
	char *id = NULL, *path = NULL;
	int r;

	if ((r = secret_resolve(a->positional[1], &id)) != 0)
		return r;
	body = json_object();
	if (reason != NULL && json_object_set_new(body, "reason", json_string(reason)) != 0) {
		fprintf(stderr, "vaultterm secret reveal: the reason is not UTF-8 text\n");
		r = CLI_EXIT_USAGE;
		goto out;
	}
	path = xasprintf("/api/vault/secrets/%s/reveal", id);
	if ((r = cli_call("POST", path, body, 1, &resp)) != 0)
		goto out;
	fields = json_object_get(resp, "fields");
	if (field != NULL) {
		if (strncmp(field, "custom.", 7) == 0)
			v = json_object_get(json_object_get(fields, "custom"), field + 7);
		else
			v = json_object_get(fields, field);
		if (json_is_string(v)) {
			const char *s = json_string_value(v);
			size_t n = json_string_length(v);

			/* Raw, for $(...) and redirections: a key file comes out byte for byte. */
			fwrite(s, 1, n, stdout);
			if (n == 0 || s[n - 1] != '\n')
				putchar('\n');
		} else if (json_is_integer(v)) {
			printf("%lld\n", (long long)json_integer_value(v));
		} else {
			fprintf(stderr, "vaultterm secret reveal: the secret has no field '%s'\n",
			    field);
			r = CLI_EXIT_API;
			goto out;
		}
	} else if (a->format == CLI_FORMAT_JSON) {
		/* Straight to stdout: no unwiped copy of the dump. */
		json_dumpf(resp, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_fields(fields);
	}
	fflush(stdout);
	r = 0;
 out:
	json_decref(body);
	json_decref(resp);
	free(path);
	free(id);
	return r;
}

static int
secret_totp(const struct cli_args *a)
{
	json_t *body = json_object(), *resp = NULL;
	char *id = NULL, *path = NULL;
	const char *code;
	int r;

	if ((r = secret_resolve(a->positional[1], &id)) != 0)
		goto out;
	path = xasprintf("/api/vault/secrets/%s/totp", id);
	if ((r = cli_call("POST", path, body, 1, &resp)) != 0)
		goto out;
	if (a->format == CLI_FORMAT_JSON) {
		json_dumpf(resp, stdout, JSON_INDENT(2)); /* no unwiped copy of the code */
		putchar('\n');
	} else if ((code = json_string_value(json_object_get(resp, "code"))) != NULL) {
		printf("%s\n", code);
	} else {
		fprintf(stderr, "vaultterm secret totp: the server sent no code\n");
		r = CLI_EXIT_LOCAL;
	}
 out:
	json_decref(body);
	json_decref(resp);
	free(path);
	free(id);
	return r;
}

int
cmd_secret_main(int argc, char **argv)
{
	static const struct cli_optspec put_specs[] = {
		{ "type", 1, 0 }, { "tag", 1, 1 }, { "inject-only", 0, 0 }, { "cas", 1, 0 },
		{ "json", 0, 0 },
	};
	static const struct cli_optspec reveal_specs[] = { { "reason", 1, 0 }, { "field", 1, 0 } };
	static const struct cli_subcmd subs[] = {
		{ "put", PUT_USAGE, put_specs, VT_NELEM(put_specs), 2, CLI_MAX_POSITIONAL - 1,
		    secret_put },
		{ "get", GET_USAGE, NULL, 0, 1, 1, secret_get },
		{ "ls", LS_USAGE, NULL, 0, 1, 1, secret_ls },
		{ "reveal", REVEAL_USAGE, reveal_specs, VT_NELEM(reveal_specs), 1, 1, secret_reveal },
		{ "totp", TOTP_USAGE, NULL, 0, 1, 1, secret_totp },
		{ "rm", RM_USAGE, NULL, 0, 1, 1, secret_rm },
	};
	const struct cli_subcmd *sub;
	struct cli_args a;
	int r;

	if ((r = cli_parse_sub(argc, argv, subs, VT_NELEM(subs), SECRET_USAGE, &sub, &a)) != 0)
		return r == 1 ? 0 : r;
	return sub->run(&a);
}
