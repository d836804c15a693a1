/*
 * The command-line client: every subcommand except `server`/`migrate` talks to the HTTP API at
 * VAULTTERM_ADDR with VAULTTERM_TOKEN or the token saved by `vaultterm login` (a 0600 file under
 * ~/.vaultterm or $VAULTTERM_CONFIG_DIR). Output is a table by default or JSON with -format=json.
 *
 * Exit codes: 0 success; 1 the server refused the request (4xx/5xx); 2 usage error;
 * 3 cannot reach the server or a local error; 4 not authenticated (no token, or 401).
 */
#ifndef VT_CLI_CLI_H
#define VT_CLI_CLI_H

#include <stddef.h>

#include <jansson.h>

#include "base/util.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_API 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_LOCAL 3
#define CLI_EXIT_AUTH 4

#define CLI_RESPONSE_MAX ((size_t)16 << 20)
#define CLI_TIMEOUT_S 30
#define CLI_MAX_OPTS 16
#define CLI_MAX_POSITIONAL 8
#define CLI_MAX_MULTI 16

enum cli_format {
	CLI_FORMAT_TABLE,
	CLI_FORMAT_JSON,
};

struct cli_optspec {
	const char *name;  /* without dashes */
	int takes_value;
	int multi;         /* may repeat (values collected) */
};

struct cli_args {
	const char *values[CLI_MAX_OPTS][CLI_MAX_MULTI];
	int counts[CLI_MAX_OPTS];
	const char *positional[CLI_MAX_POSITIONAL];
	int npositional;
	enum cli_format format;
	const struct cli_optspec *specs;
	size_t nspecs;
};

/*
 * Parses argv[1..] against specs (plus the common -format and -h/--help). Accepts --opt v,
 * --opt=v, -opt v, -opt=v. Returns 0, 1 if help was requested (usage printed, exit 0), or
 * CLI_EXIT_USAGE after printing the error and usage.
 */
int cli_parse(int argc, char **argv, const struct cli_optspec *specs, size_t nspecs,
    const char *usage, struct cli_args *a);
/* Value of an option (the last one if repeated) or NULL. */
const char *cli_opt(const struct cli_args *a, const char *name);
/* Number of values of a repeatable option; cli_opt_at gives each. */
int cli_opt_count(const struct cli_args *a, const char *name);
const char *cli_opt_at(const struct cli_args *a, const char *name, int i);

/* Sends a request. body may be NULL. auth: attach the saved/env token. Returns a CLI exit code;
 * on success *resp holds the parsed JSON (NULL for an empty body). Errors are printed. */
int cli_call(const char *method, const char *path, const json_t *body, int auth, json_t **resp);
/* Percent-encodes a query value. Caller frees. */
char *cli_urlencode(const char *s);

/* Reads a secret from the terminal without echo (or one line from stdin when not a tty).
 * Returns a heap string (caller wipes with vt_str_wipe_free) or NULL. */
char *cli_read_secret(const char *prompt, int from_stdin);

/* Token storage. */
int cli_token_save(const char *token);
int cli_token_delete(void);
/* 1 if a token is available (VAULTTERM_TOKEN or the saved file), else 0. */
int cli_token_present(void);

/* Output: JSON (pretty) or an aligned table of `cols` keys from each object in `items`. */
void cli_print_json(const json_t *v);
void cli_print_table(const json_t *items, const char *const *cols, const char *const *headers,
    size_t ncols);
/* Prints one object as key: value lines. */
void cli_print_object(const json_t *obj, const char *const *keys, const char *const *labels,
    size_t n);

/* Subcommands. */
int cmd_register_main(int argc, char **argv);
int cmd_login_main(int argc, char **argv);
int cmd_logout_main(int argc, char **argv);
int cmd_whoami_main(int argc, char **argv);
int cmd_org_main(int argc, char **argv);
int cmd_token_main(int argc, char **argv);
int cmd_mfa_main(int argc, char **argv);
int cmd_audit_main(int argc, char **argv);

#endif
