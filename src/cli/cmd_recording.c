/*
 * `vaultterm recording ls|cat|play|get`: the broker's terminal sessions and their asciicast v2
 * recordings (GET /api/terminal/sessions[/{id}/recording]; every fetch of a recording is
 * audited as RECORDING_VIEWED by the server). cat prints the output stream (the "o" events'
 * data), play replays it with its timing, get saves the .cast file as served.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#define RECORDING_CLI_MAX ((size_t)1 << 30)  /* the server's RECORDING_MAX */
#define PLAY_MAX_WAIT_DEFAULT 2.0              /* seconds of idle kept at most while playing */

static const char RECORDING_USAGE[] =
    "usage: vaultterm recording <subcommand>\n\n"
    "  ls (or list)             terminal sessions (yours; admins and owners: the org's)\n"
    "  cat ID                   print a recording's output (the terminal stream) to stdout\n"
    "  play ID [--speed X] [--max-wait S]\n"
    "                           replay it in this terminal with its timing\n"
    "  get ID [-o FILE]         save the asciicast v2 file (.cast) to stdout or FILE\n";
static const char LS_USAGE[] =
    "usage: vaultterm recording ls\n\n"
    "Terminal sessions through the SSH broker, newest first.\n";
static const char CAT_USAGE[] =
    "usage: vaultterm recording cat ID\n\n"
    "Prints the output the session showed (detected secrets redacted), without timing.\n";
static const char PLAY_USAGE[] =
    "usage: vaultterm recording play ID [--speed X] [--max-wait S]\n\n"
    "Replays the session's output with its timing: --speed X plays X times faster (default 1),\n"
    "--max-wait S shortens every pause to at most S seconds (default 2; 0: no pause).\n";
static const char GET_USAGE[] =
    "usage: vaultterm recording get ID [-o FILE]\n\n"
    "Writes the asciicast v2 recording to stdout, or to FILE (created 0600, renamed into place\n"
    "once complete). `asciinema play FILE` replays it too.\n";

static const char *const LS_COLS[] = { "id", "profile_name", "kind", "started_at", "ended_at",
	"bytes_out", "exposures", "recorded" };
static const char *const LS_HDRS[] = { "ID", "PROFILE", "KIND", "STARTED", "ENDED", "BYTES",
	"EXPOSURES", "RECORDED" };

static int
rec_ls(const struct cli_args *a)
{
	json_t *items = NULL;
	int r;

	if ((r = cli_list_all("/api/terminal/sessions", &items)) != 0)
		return r;
	return cli_print_items(a, items, LS_COLS, LS_HDRS, VT_NELEM(LS_COLS));
}

static char *
rec_path(const char *id)
{
	return xasprintf("/api/terminal/sessions/%s/recording", id);
}

static int
check_id(const char *cmd, const char *id)
{
	if (cli_is_uuid(id))
		return 0;
	fprintf(stderr, "vaultterm recording %s: '%s' is not a session id (see `vaultterm "
			"recording ls`)\n", cmd, id);
	return CLI_EXIT_USAGE;
}

/* The whole recording into memory (*buf, *n: free with free()). */
static int
fetch(const char *id, char **buf, size_t *n)
{
	FILE *f;
	char *path = rec_path(id);
	int r;

	*buf = NULL;
	*n = 0;
	if ((f = open_memstream(buf, n)) == NULL) {
		free(path);
		fprintf(stderr, "vaultterm: out of memory\n");
		return CLI_EXIT_LOCAL;
	}
	r = cli_get_text(path, f, RECORDING_CLI_MAX);
	free(path);
	if (fclose(f) != 0 && r == 0) {
		fprintf(stderr, "vaultterm: out of memory\n");
		r = CLI_EXIT_LOCAL;
	}
	if (r != 0) {
		free(*buf);
		*buf = NULL;
		*n = 0;
	}
	return r;
}

/* One event line: *t, *code (borrowed from *ev), the data. 0 or -1 if not an event. */
static int
parse_event(const char *line, size_t n, json_t **ev, double *t, const char **code,
    const char **data, size_t *dlen)
{
	json_t *jt, *jc, *jd;

	*ev = json_loadb(line, n, JSON_ALLOW_NUL, NULL); /* binary output */
	if (!json_is_array(*ev) || json_array_size(*ev) != 3)
		goto bad;
	jt = json_array_get(*ev, 0);
	jc = json_array_get(*ev, 1);
	jd = json_array_get(*ev, 2);
	if (!json_is_number(jt) || !json_is_string(jc) || !json_is_string(jd))
		goto bad;
	*t = json_number_value(jt);
	*code = json_string_value(jc);
	*data = json_string_value(jd);
	*dlen = json_string_length(jd);
	return 0;
 bad:
	json_decref(*ev);
	*ev = NULL;
	return -1;
}

static void
pause_for(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Writes the "o" events of the recording to stdout; with play, waiting between them. */
static int
replay(const char *cmd, const char *id, int play, double speed, double max_wait)
{
	char *buf = NULL, *line, *eol, *end;
	const char *code, *data;
	json_t *hdr = NULL, *ev;
	double t, prev = 0;
	size_t n, dlen;
	int r, lineno = 0;

	if ((r = fetch(id, &buf, &n)) != 0)
		return r;
	end = buf + n;
	r = CLI_EXIT_LOCAL;
	for (line = buf; line < end; line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		lineno++;
		if (eol == line)
			continue;
		if (lineno == 1) {
			hdr = json_loadb(line, (size_t)(eol - line), 0, NULL);
			if (!json_is_object(hdr) ||
			    json_integer_value(json_object_get(hdr, "version")) != 2) {
				fprintf(stderr, "vaultterm recording %s: not an asciicast v2 "
						"recording\n", cmd);
				goto out;
			}
			continue;
		}
		if (parse_event(line, (size_t)(eol - line), &ev, &t, &code, &data, &dlen) != 0) {
			fprintf(stderr, "vaultterm recording %s: line %d is not an asciicast event\n",
			    cmd, lineno);
			goto out;
		}
		if (strcmp(code, "o") == 0) {
			if (play) {
				double w = (t - prev) / speed;

				pause_for(w > max_wait ? max_wait : w);
				prev = t;
			}
			if (fwrite(data, 1, dlen, stdout) != dlen || (play && fflush(stdout) != 0)) {
				json_decref(ev);
				fprintf(stderr, "vaultterm: cannot write the output: %s\n",
				    strerror(errno));
				goto out;
			}
		}
		json_decref(ev);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "vaultterm: cannot write the output: %s\n", strerror(errno));
		goto out;
	}
	r = 0;
 out:
	json_decref(hdr);
	free(buf);
	return r;
}

static int
rec_cat(const struct cli_args *a)
{
	int r;

	if ((r = check_id("cat", a->positional[1])) != 0)
		return r;
	return replay("cat", a->positional[1], 0, 1, 0);
}

static int
parse_seconds(const char *s, double min, double max, double *out)
{
	char *e;
	double v;

	errno = 0;
	v = strtod(s, &e);
	if (errno != 0 || e == s || *e != '\0' || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
rec_play(const struct cli_args *a)
{
	double speed = 1, max_wait = PLAY_MAX_WAIT_DEFAULT;
	int r;

	if ((r = check_id("play", a->positional[1])) != 0)
		return r;
	if (cli_opt(a, "speed") != NULL && parse_seconds(cli_opt(a, "speed"), 0.01, 1000,
	    &speed) != 0) {
		fprintf(stderr, "vaultterm recording play: --speed must be a number from 0.01 to "
				"1000\n");
		return CLI_EXIT_USAGE;
	}
	if (cli_opt(a, "max-wait") != NULL && parse_seconds(cli_opt(a, "max-wait"), 0, 86400,
	    &max_wait) != 0) {
		fprintf(stderr, "vaultterm recording play: --max-wait must be 0 to 86400 seconds\n");
		return CLI_EXIT_USAGE;
	}
	return replay("play", a->positional[1], 1, speed, max_wait);
}

static int
rec_get(const struct cli_args *a)
{
	const char *out = cli_opt(a, "o");
	char *path, *tmp = NULL;
	FILE *f = NULL;
	int fd, r;

	if ((r = check_id("get", a->positional[1])) != 0)
		return r;
	path = rec_path(a->positional[1]);
	if (out == NULL) {
		r = cli_get_text(path, stdout, RECORDING_CLI_MAX);
		if (r == 0 && fflush(stdout) != 0) {
			fprintf(stderr, "vaultterm: cannot write the output: %s\n", strerror(errno));
			r = CLI_EXIT_LOCAL;
		}
		free(path);
		return r;
	}
	/* Never a half-written FILE: a temporary name, renamed once complete. */
	tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "vaultterm: cannot create %s: %s\n", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		r = CLI_EXIT_LOCAL;
		goto out;
	}
	r = cli_get_text(path, f, RECORDING_CLI_MAX);
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
 out:
	free(tmp);
	free(path);
	return r;
}

int
cmd_recording_main(int argc, char **argv)
{
	static const struct cli_optspec play_specs[] = { { "speed", 1, 0 }, { "max-wait", 1, 0 } };
	static const struct cli_optspec get_specs[] = { { "o", 1, 0 } };
	static const struct cli_subcmd subs[] = {
		{ "ls", LS_USAGE, NULL, 0, 0, 0, rec_ls },
		{ "list", LS_USAGE, NULL, 0, 0, 0, rec_ls },
		{ "cat", CAT_USAGE, NULL, 0, 1, 1, rec_cat },
		{ "play", PLAY_USAGE, play_specs, VT_NELEM(play_specs), 1, 1, rec_play },
		{ "get", GET_USAGE, get_specs, VT_NELEM(get_specs), 1, 1, rec_get },
	};
	const struct cli_subcmd *sub;
	struct cli_args a;
	int r;

	if ((r = cli_parse_sub(argc, argv, subs, VT_NELEM(subs), RECORDING_USAGE, &sub, &a)) != 0)
		return r == 1 ? 0 : r;
	return sub->run(&a);
}
