/*
 * `vaultterm audit ls|events|export|checkpoint|verify|prove`: the org's audit trail (owners,
 * admins, audit:read tokens), its export bundle and signed checkpoints, and the two checks a user
 * runs with the log's public key: `verify` checks a whole bundle offline (no server, nothing
 * trusted but the key), `prove` checks the server's inclusion proof of one row against a
 * checkpoint saved earlier. Formats and checks: docs/audit.md §7.9.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "audit/bundle.h"
#include "audit/chain.h"
#include "audit/merkle.h"
#include "base/encode.h"
#include "base/err.h"
#include "base/num.h"
#include "base/vbuf.h"
#include "crypto/note.h"

#define AUDIT_KEY_FILE_MAX 1024          /* a file holding one vkey line */
#define AUDIT_ROOT_PREFIX 16             /* hex digits of the root printed by `prove` */

static const char AUDIT_USAGE[] =
    "usage: vaultterm audit <subcommand>\n\n"
    "  ls [--action A] [--actor ID|EMAIL] [--resource ID] [--after TIME] [--limit N]\n"
    "     [--cursor C] [--all]\n"
    "        newest first; --all follows the cursor to the end\n"
    "  events [--from TIME] [--to TIME] [--limit N] [--cursor C] [--all]\n"
    "        the Events API stream, oldest first (TIME: RFC 3339 or YYYY-MM-DD)\n"
    "  export [-o FILE]\n"
    "        the org's whole log as an audit bundle, to stdout or FILE\n"
    "  checkpoint [-o FILE]\n"
    "        the latest signed checkpoint (keep it for `prove`, or as a witness)\n"
    "  verify BUNDLE|- --public-key KEY [--witness FILE]\n"
    "        check a bundle offline, trusting only the log's public key\n"
    "  prove INDEX --checkpoint FILE --public-key KEY\n"
    "        check that row INDEX is in the log of a saved checkpoint\n\n"
    "--cursor resumes from a next_cursor printed by -format=json.\n"
    "Run `vaultterm audit <subcommand> --help` for details.\n";

static const char LS_USAGE[] =
    "usage: vaultterm audit ls [--action A] [--actor ID|EMAIL] [--resource ID] [--after TIME]\n"
    "                          [--limit N] [--cursor C] [--all]\n\n"
    "The org's audit rows, newest first; --all follows the cursor to the end.\n";
static const char EVENTS_USAGE[] =
    "usage: vaultterm audit events [--from TIME] [--to TIME] [--limit N] [--cursor C] [--all]\n\n"
    "The Events API stream, oldest first (TIME: RFC 3339 or YYYY-MM-DD).\n";
static const char EXPORT_USAGE[] =
    "usage: vaultterm audit export [-o FILE]\n\n"
    "Writes the org's whole log as an audit bundle (GET /api/audit/export) to stdout, or to\n"
    "FILE: created 0600 and renamed into place once complete, never left half written.\n"
    "Check it with `vaultterm audit verify`.\n";
static const char CHECKPOINT_USAGE[] =
    "usage: vaultterm audit checkpoint [-o FILE]\n\n"
    "Writes the log's latest signed checkpoint (GET /api/audit/checkpoints/latest) to stdout\n"
    "or FILE (0600), for `vaultterm audit prove` or to keep as a witness of the log's state.\n";
static const char VERIFY_USAGE[] =
    "usage: vaultterm audit verify BUNDLE|- --public-key KEY [--witness FILE]\n\n"
    "Checks an audit bundle (a file, or - for stdin) offline: every row against its leaf\n"
    "hash, every signed checkpoint against the rows, the chain of checkpoints, and, with\n"
    "--witness, the checkpoints recorded in FILE (lines \"checkpoint <origin> <base64 note>\").\n"
    "KEY is the log's verifier key (\"<origin>+<id>+<base64>\") or a file holding it; it is the\n"
    "only thing trusted. Prints `OK <rows> rows, <n> checkpoints` and exits 0, or\n"
    "`FAIL index <I>: <reason>` (`FAIL: <reason>` when no index applies) and exits 1.\n";
static const char PROVE_USAGE[] =
    "usage: vaultterm audit prove INDEX --checkpoint FILE --public-key KEY\n\n"
    "Asks the server for the inclusion proof of row INDEX in the tree of the signed checkpoint\n"
    "saved in FILE (see `vaultterm audit checkpoint`) and checks it against that checkpoint:\n"
    "prints `OK index I is in the log of size S (root ...)`, or `FAIL: <reason>` and exits 1.\n"
    "KEY is the log's verifier key or a file holding it.\n";

/* Appends &name=value (encoded) when value is set. */
static void
q_add(char **q, const char *name, const char *value)
{
	char *enc, *n;

	if (value == NULL)
		return;
	enc = cli_urlencode(value);
	n = xasprintf("%s%s%s=%s", *q, (*q)[0] != '\0' ? "&" : "", name, enc);
	free(enc);
	free(*q);
	*q = n;
}

/* `ls` and `events`: one spec table for both, so either's options are accepted by the other. */
static const struct cli_optspec LIST_SPECS[] = {
	{ "action", 1, 0 }, { "actor", 1, 0 }, { "resource", 1, 0 }, { "after", 1, 0 },
	{ "from", 1, 0 }, { "to", 1, 0 }, { "limit", 1, 0 }, { "all", 0, 0 },
	{ "cursor", 1, 0 },
};

static int
audit_list(const struct cli_args *a, int events)
{
	static const char *const lcols[] = { "time", "action", "actor.email", "actor.type",
		"resource.type", "resource.id", "outcome", "source_ip" };
	static const char *const lhdrs[] = { "TIME", "ACTION", "ACTOR", "ACTOR TYPE", "RESOURCE",
		"RESOURCE ID", "OUTCOME", "SOURCE" };
	static const char *const ecols[] = { "timestamp", "action", "severity", "category",
		"actor.email", "title" };
	static const char *const ehdrs[] = { "TIME", "ACTION", "SEVERITY", "CATEGORY", "ACTOR",
		"TITLE" };
	json_t *resp = NULL, *all = json_array();
	const char *listkey = events ? "events" : "items", *next, *start;
	char *q = xstrdup(""), *path = NULL, *cursor = NULL;
	int r;

	if (events) {
		q_add(&q, "from", cli_opt(a, "from"));
		q_add(&q, "to", cli_opt(a, "to"));
	} else {
		q_add(&q, "action", cli_opt(a, "action"));
		q_add(&q, "actor", cli_opt(a, "actor"));
		q_add(&q, "resource", cli_opt(a, "resource"));
		q_add(&q, "after", cli_opt(a, "after"));
	}
	q_add(&q, "limit", cli_opt(a, "limit"));
	if ((start = cli_opt(a, "cursor")) != NULL)
		cursor = xstrdup(start);
	for (;;) {
		char *qq = xstrdup(q);

		if (cursor != NULL)
			q_add(&qq, "cursor", cursor);
		free(path);
		path = xasprintf("%s%s%s", events ? "/api/events/v1" : "/api/audit",
		    qq[0] != '\0' ? "?" : "", qq);
		free(qq);
		if ((r = cli_call("GET", path, NULL, 1, &resp)) != 0)
			goto out;
		json_array_extend(all, json_object_get(resp, listkey));
		next = json_string_value(json_object_get(resp, "next_cursor"));
		free(cursor);
		cursor = next != NULL ? xstrdup(next) : NULL;
		json_decref(resp);
		resp = NULL;
		if (cursor == NULL || cli_opt(a, "all") == NULL)
			break;
	}
	if (a->format == CLI_FORMAT_JSON) {
		json_t *o = json_pack("{s:O, s:s?}", listkey, all, "next_cursor", cursor);

		cli_print_json(o);
		json_decref(o);
	} else {
		if (events)
			cli_print_table(all, ecols, ehdrs, 6);
		else
			cli_print_table(all, lcols, lhdrs, 8);
		if (cursor != NULL)
			fprintf(stderr, "(more rows: use --all, or -format=json for the cursor)\n");
	}
	r = 0;
 out:
	json_decref(all);
	free(q);
	free(path);
	free(cursor);
	return r;
}

static int
audit_ls(const struct cli_args *a)
{
	return audit_list(a, 0);
}

static int
audit_events(const struct cli_args *a)
{
	return audit_list(a, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Text downloads: export and checkpoint */

/*
 * GET path into the file `out` (NULL: stdout). A file is written under a temporary name in the
 * same directory (0600, O_EXCL), synced and renamed over `out` only when the whole response
 * arrived, so `out` is never left half written. Returns a CLI exit code.
 */
static int
download(const char *path, const char *out, size_t max)
{
	char *tmp = NULL;
	FILE *f = NULL;
	int fd, r;

	if (out == NULL) {
		if ((r = cli_get_text(path, stdout, max)) != 0)
			return r;
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "vaultterm: cannot write the output: %s\n", strerror(errno));
			return CLI_EXIT_LOCAL;
		}
		return 0;
	}
	tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "vaultterm: cannot create %s: %s\n", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return CLI_EXIT_LOCAL;
	}
	r = cli_get_text(path, f, max);
	if (r == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
		fprintf(stderr, "vaultterm: cannot write %s: %s\n", tmp, strerror(errno));
		r = CLI_EXIT_LOCAL;
	}
	if (fclose(f) != 0 && r == 0) {
		fprintf(stderr, "vaultterm: cannot write %s: %s\n", tmp, strerror(errno));
		r = CLI_EXIT_LOCAL;
	}
	if (r == 0 && rename(tmp, out) != 0) {
		fprintf(stderr, "vaultterm: cannot save %s: %s\n", out, strerror(errno));
		r = CLI_EXIT_LOCAL;
	}
	if (r != 0)
		unlink(tmp);
	free(tmp);
	return r;
}

static int
audit_export(const struct cli_args *a)
{
	return download("/api/audit/export", cli_opt(a, "o"), 0);
}

static int
audit_checkpoint(const struct cli_args *a)
{
	return download("/api/audit/checkpoints/latest", cli_opt(a, "o"), NOTE_MAX);
}

/* ------------------------------------------------------------------------------------------ */
/* Offline checks: verify and prove */

/*
 * Reads up to max bytes of the file at path into a new buffer (*len bytes, NUL-terminated).
 * Returns 0, 1 if the file is larger than max, or -1 with errno set.
 */
static int
read_small_file(const char *path, size_t max, char **out, size_t *len)
{
	char *buf = xmalloc(max + 2);
	size_t n = 0, got;
	FILE *f;

	*out = NULL;
	*len = 0;
	if ((f = fopen(path, "r")) == NULL) {
		free(buf);
		return -1;
	}
	while (n <= max && (got = fread(buf + n, 1, max + 1 - n, f)) > 0)
		n += got;
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		free(buf);
		errno = e;
		return -1;
	}
	fclose(f);
	if (n > max) {
		free(buf);
		return 1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/*
 * --public-key: a vkey string, or the path of a file holding one (one line, an optional final
 * newline). Returns 0 with *key set, or a CLI exit code after printing why.
 */
static int
load_key(const char *arg, struct note_verifier **key)
{
	char *text = NULL;
	size_t len;
	int r;

	*key = NULL;
	if (note_verifier_parse(arg, key) == 0)
		return 0;
	if ((r = read_small_file(arg, AUDIT_KEY_FILE_MAX, &text, &len)) != 0) {
		if (r < 0 && errno != ENOENT) {
			fprintf(stderr, "vaultterm: cannot read %s: %s\n", arg, strerror(errno));
			return CLI_EXIT_LOCAL;
		}
		fprintf(stderr, "vaultterm: --public-key: '%s' is neither a verifier key "
				"(<origin>+<id>+<base64>) nor a file holding one\n", arg);
		return CLI_EXIT_USAGE;
	}
	if (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	if (len > 0 && text[len - 1] == '\r')
		text[--len] = '\0';
	r = note_verifier_parse(text, key);
	free(text);
	if (r != 0) {
		fprintf(stderr, "vaultterm: --public-key: %s does not hold a verifier key\n", arg);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static int
audit_verify(const struct cli_args *a)
{
	const char *src = a->positional[1], *keyarg = cli_opt(a, "public-key");
	const char *wpath = cli_opt(a, "witness");
	char reason[BUNDLE_REASON_MAX];
	struct note_verifier *key = NULL;
	struct witness *w = NULL;
	struct bundle_result res;
	FILE *in = NULL, *wf = NULL;
	int r;

	if (keyarg == NULL) {
		fprintf(stderr, "vaultterm: audit verify needs --public-key KEY\n\n%s", VERIFY_USAGE);
		return CLI_EXIT_USAGE;
	}
	if ((r = load_key(keyarg, &key)) != 0)
		return r;
	r = CLI_EXIT_LOCAL;
	if (wpath != NULL) {
		if ((wf = fopen(wpath, "r")) == NULL) {
			fprintf(stderr, "vaultterm: cannot open %s: %s\n", wpath, strerror(errno));
			goto out;
		}
		switch (witness_load(wf, note_verifier_name(key), key, &w, reason)) {
		case 0:
			break;
		case VT_ERR_IO:
		case VT_ERR_NOMEM:
			fprintf(stderr, "vaultterm: %s: %s\n", wpath, reason);
			goto out;
		default:
			printf("FAIL: witness file %s: %s\n", wpath, reason);
			r = CLI_EXIT_API;
			goto out;
		}
	}
	if (strcmp(src, "-") == 0) {
		in = stdin;
	} else if ((in = fopen(src, "r")) == NULL) {
		fprintf(stderr, "vaultterm: cannot open %s: %s\n", src, strerror(errno));
		goto out;
	}
	switch (bundle_verify(in, key, w, &res)) {
	case 0:
		printf("OK %llu rows, %llu checkpoints", (unsigned long long)res.rows,
		    (unsigned long long)res.checkpoints);
		if (res.unsealed > 0)
			printf(", %llu rows not yet sealed by a checkpoint",
			    (unsigned long long)res.unsealed);
		printf("\n");
		r = CLI_EXIT_OK;
		break;
	case VT_ERR_VERIFY:
		if (res.has_bad_index)
			printf("FAIL index %llu: %s\n", (unsigned long long)res.bad_index, res.reason);
		else
			printf("FAIL: %s\n", res.reason);
		r = CLI_EXIT_API;
		break;
	default:
		fprintf(stderr, "vaultterm: %s: %s\n", src, res.reason);
		break;
	}
 out:
	if (in != NULL && in != stdin)
		fclose(in);
	if (wf != NULL)
		fclose(wf);
	witness_free(w);
	note_verifier_free(key);
	return r;
}

/* The hex of a JSON string into out[0 .. 32); -1 unless exactly 64 hex digits. */
static int
json_hash(const json_t *v, uint8_t out[static MERKLE_HASH_LEN])
{
	const char *s = json_string_value(v);

	if (s == NULL || strlen(s) != 2 * MERKLE_HASH_LEN ||
	    hex_decode(s, 2 * MERKLE_HASH_LEN, out, MERKLE_HASH_LEN) != 0)
		return -1;
	return 0;
}

/* 1 if v is the JSON integer want. */
static int
json_u64_eq(const json_t *v, uint64_t want)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 &&
	    (uint64_t)json_integer_value(v) == want;
}

/*
 * Checks the server's answer {"index","size","leaf_hash","entry","path"} for row index of the
 * checkpoint note: prints OK or FAIL, returns the exit code.
 */
static int
prove_answer(const json_t *resp, const char *note, size_t len, const struct note_verifier *key,
    const struct chain_checkpoint *cp, uint64_t index)
{
	uint8_t path[MERKLE_MAX_PROOF][MERKLE_HASH_LEN], stated[MERKLE_HASH_LEN];
	uint8_t leaf[MERKLE_HASH_LEN], *row = NULL;
	const json_t *jpath = json_object_get(resp, "path");
	const char *entry = json_string_value(json_object_get(resp, "entry"));
	char root[2 * MERKLE_HASH_LEN + 1];
	size_t n, i, rl = 0;
	int r = CLI_EXIT_API;

	if (!json_u64_eq(json_object_get(resp, "index"), index) ||
	    !json_u64_eq(json_object_get(resp, "size"), cp->size)) {
		printf("FAIL: the server answered for another index or tree size\n");
		return r;
	}
	if (json_hash(json_object_get(resp, "leaf_hash"), stated) != 0 || entry == NULL ||
	    !json_is_array(jpath) || (n = json_array_size(jpath)) > MERKLE_MAX_PROOF) {
		printf("FAIL: the server's proof is malformed\n");
		return r;
	}
	for (i = 0; i < n; i++)
		if (json_hash(json_array_get(jpath, i), path[i]) != 0) {
			printf("FAIL: the server's proof is malformed\n");
			return r;
		}
	row = xmalloc(MERKLE_MAX_LEAF);
	if (b64_decode(entry, strlen(entry), row, MERKLE_MAX_LEAF, &rl) != 0 ||
	    merkle_leaf_hash(row, rl, leaf) != 0) {
		printf("FAIL: the server's entry is not base64 of a row\n");
		goto out;
	}
	if (!vt_ct_eq(leaf, stated, MERKLE_HASH_LEN)) {
		printf("FAIL: the leaf hash the server sent is not the hash of the row it sent\n");
		goto out;
	}
	switch (chain_prove_check(note, len, key, index, row, rl, (const uint8_t(*)[32])path, n)) {
	case 0:
		hex_encode(cp->root, MERKLE_HASH_LEN, root);
		printf("OK index %llu is in the log of size %llu (root %.*s)\n",
		    (unsigned long long)index, (unsigned long long)cp->size, AUDIT_ROOT_PREFIX, root);
		r = CLI_EXIT_OK;
		break;
	case VT_ERR_VERIFY:
		printf("FAIL: the inclusion proof does not verify against the checkpoint's root\n");
		break;
	default:
		printf("FAIL: the row the server sent is not a canonical audit row of this "
		       "organization\n");
		break;
	}
 out:
	free(row);
	return r;
}

static int
audit_prove(const struct cli_args *a)
{
	const char *keyarg = cli_opt(a, "public-key"), *cpath = cli_opt(a, "checkpoint");
	struct note_verifier *key = NULL;
	struct chain_checkpoint cp;
	json_t *resp = NULL;
	char *note = NULL, *path = NULL;
	uint64_t index;
	size_t len;
	int r;

	if (keyarg == NULL || cpath == NULL) {
		fprintf(stderr, "vaultterm: audit prove needs --checkpoint FILE and --public-key "
				"KEY\n\n%s", PROVE_USAGE);
		return CLI_EXIT_USAGE;
	}
	if (num_parse_u64(a->positional[1], 0, MERKLE_MAX_SIZE - 1, &index) != 0) {
		fprintf(stderr, "vaultterm: INDEX must be a row index (0, 1, 2, ...)\n\n%s",
		    PROVE_USAGE);
		return CLI_EXIT_USAGE;
	}
	if ((r = load_key(keyarg, &key)) != 0)
		return r;
	if ((r = read_small_file(cpath, NOTE_MAX, &note, &len)) != 0) {
		if (r < 0)
			fprintf(stderr, "vaultterm: cannot read %s: %s\n", cpath, strerror(errno));
		else
			printf("FAIL: %s is larger than any signed checkpoint\n", cpath);
		r = r < 0 ? CLI_EXIT_LOCAL : CLI_EXIT_API;
		goto out;
	}
	r = CLI_EXIT_API;
	switch (chain_checkpoint_read(note, len, key, &cp)) {
	case 0:
		break;
	case VT_ERR_VERIFY:
		printf("FAIL: the checkpoint's signature does not verify with the given public "
		       "key\n");
		goto out;
	default:
		printf("FAIL: %s is not a signed checkpoint of this log\n", cpath);
		goto out;
	}
	if (index >= cp.size) {
		printf("FAIL: index %llu is not covered by the checkpoint (size %llu)\n",
		    (unsigned long long)index, (unsigned long long)cp.size);
		goto out;
	}
	path = xasprintf("/api/audit/proof/inclusion?index=%llu&size=%llu",
	    (unsigned long long)index, (unsigned long long)cp.size);
	if ((r = cli_call("GET", path, NULL, 1, &resp)) != 0)
		goto out;
	r = prove_answer(resp, note, len, key, &cp, index);
 out:
	json_decref(resp);
	free(path);
	free(note);
	note_verifier_free(key);
	return r;
}

int
cmd_audit_main(int argc, char **argv)
{
	static const struct cli_optspec out_specs[] = { { "o", 1, 0 } };
	static const struct cli_optspec verify_specs[] = {
		{ "public-key", 1, 0 }, { "witness", 1, 0 },
	};
	static const struct cli_optspec prove_specs[] = {
		{ "public-key", 1, 0 }, { "checkpoint", 1, 0 },
	};
	static const struct cli_subcmd subs[] = {
		{ "ls", LS_USAGE, LIST_SPECS, VT_NELEM(LIST_SPECS), 0, 0, audit_ls },
		{ "events", EVENTS_USAGE, LIST_SPECS, VT_NELEM(LIST_SPECS), 0, 0, audit_events },
		{ "export", EXPORT_USAGE, out_specs, VT_NELEM(out_specs), 0, 0, audit_export },
		{ "checkpoint", CHECKPOINT_USAGE, out_specs, VT_NELEM(out_specs), 0, 0,
		    audit_checkpoint },
		{ "verify", VERIFY_USAGE, verify_specs, VT_NELEM(verify_specs), 1, 1, audit_verify },
		{ "prove", PROVE_USAGE, prove_specs, VT_NELEM(prove_specs), 1, 1, audit_prove },
	};
	const struct cli_subcmd *sub;
	struct cli_args a;
	int r;

	if ((r = cli_parse_sub(argc, argv, subs, VT_NELEM(subs), AUDIT_USAGE, &sub, &a)) != 0)
		return r == 1 ? 0 : r;
	return sub->run(&a);
}
