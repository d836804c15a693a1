/*
 * `vaultterm audit ls|events`: the org's audit trail (owners, admins, audit:read tokens).
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char AUDIT_USAGE[] =
    "usage: vaultterm audit <subcommand>\n\n"
    "  ls [--action A] [--actor ID|EMAIL] [--resource ID] [--after TIME] [--limit N]\n"
    "     [--cursor C] [--all]\n"
    "        newest first; --all follows the cursor to the end\n"
    "  events [--from TIME] [--to TIME] [--limit N] [--cursor C] [--all]\n"
    "        the Events API stream, oldest first (TIME: RFC 3339 or YYYY-MM-DD)\n"
    "  --cursor resumes from a next_cursor printed by -format=json.\n";

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

int
cmd_audit_main(int argc, char **argv)
{
	static const struct cli_optspec specs[] = {
		{ "action", 1, 0 }, { "actor", 1, 0 }, { "resource", 1, 0 }, { "after", 1, 0 },
		{ "from", 1, 0 }, { "to", 1, 0 }, { "limit", 1, 0 }, { "all", 0, 0 },
		{ "cursor", 1, 0 },
	};
	static const char *const lcols[] = { "time", "action", "actor.email", "actor.type",
		"resource.type", "resource.id", "outcome", "source_ip" };
	static const char *const lhdrs[] = { "TIME", "ACTION", "ACTOR", "ACTOR TYPE", "RESOURCE",
		"RESOURCE ID", "OUTCOME", "SOURCE" };
	static const char *const ecols[] = { "timestamp", "action", "severity", "category",
		"actor.email", "title" };
	static const char *const ehdrs[] = { "TIME", "ACTION", "SEVERITY", "CATEGORY", "ACTOR",
		"TITLE" };
	struct cli_args a;
	json_t *resp = NULL, *all = json_array();
	const char *sub, *listkey, *next;
	char *q = xstrdup(""), *path = NULL, *cursor = NULL;
	const char *start;
	int r, events;

	if ((r = cli_parse(argc, argv, specs, VT_NELEM(specs), AUDIT_USAGE, &a)) != 0) {
		free(q);
		json_decref(all);
		return r == 1 ? 0 : r;
	}
	sub = a.npositional == 1 ? a.positional[0] : "";
	events = strcmp(sub, "events") == 0;
	if (!events && strcmp(sub, "ls") != 0) {
		fputs(AUDIT_USAGE, stderr);
		r = CLI_EXIT_USAGE;
		goto out;
	}
	listkey = events ? "events" : "items";
	if (events) {
		q_add(&q, "from", cli_opt(&a, "from"));
		q_add(&q, "to", cli_opt(&a, "to"));
	} else {
		q_add(&q, "action", cli_opt(&a, "action"));
		q_add(&q, "actor", cli_opt(&a, "actor"));
		q_add(&q, "resource", cli_opt(&a, "resource"));
		q_add(&q, "after", cli_opt(&a, "after"));
	}
	q_add(&q, "limit", cli_opt(&a, "limit"));
	if ((start = cli_opt(&a, "cursor")) != NULL)
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
		if (cursor == NULL || cli_opt(&a, "all") == NULL)
			break;
	}
	if (a.format == CLI_FORMAT_JSON) {
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
