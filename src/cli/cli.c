/*
 * Client plumbing: argument parsing, the libcurl request path, token storage and output. The
 * token never appears in argv (it comes from the environment or a 0600 file) and is wiped from
 * memory after each request.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "base/vbuf.h"

#define CLI_DEFAULT_ADDR "http://127.0.0.1:4000"
#define CLI_TOKEN_MAX 4096
#define CLI_SECRET_MAX 1024

static int
spec_index(const struct cli_optspec *specs, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(specs[i].name) == len && strncmp(specs[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

int
cli_parse(int argc, char **argv, const struct cli_optspec *specs, size_t nspecs,
    const char *usage, struct cli_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->specs = specs;
	a->nspecs = nspecs;
	VT_ASSERT(nspecs <= CLI_MAX_OPTS);
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *val = NULL;
		size_t len;
		int idx;

		if (arg[0] != '-' || arg[1] == '\0') {
			if (a->npositional >= CLI_MAX_POSITIONAL)
				goto usage_err;
			a->positional[a->npositional++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			while (++i < argc) {
				if (a->npositional >= CLI_MAX_POSITIONAL)
					goto usage_err;
				a->positional[a->npositional++] = argv[i];
			}
			break;
		}
		name = arg + (arg[1] == '-' ? 2 : 1);
		if (strcmp(name, "h") == 0 || strcmp(name, "help") == 0) {
			fputs(usage, stdout);
			fputs("\nCommon options:\n  -format=table|json   output format (default "
			      "table)\n", stdout);
			return 1;
		}
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if (len == 6 && strncmp(name, "format", 6) == 0) {
			val = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (val != NULL && strcmp(val, "json") == 0)
				a->format = CLI_FORMAT_JSON;
			else if (val != NULL && strcmp(val, "table") == 0)
				a->format = CLI_FORMAT_TABLE;
			else {
				fprintf(stderr, "vaultterm: -format must be table or json\n");
				goto usage_err;
			}
			continue;
		}
		if ((idx = spec_index(specs, nspecs, name, len)) < 0) {
			fprintf(stderr, "vaultterm: unknown option '%s'\n", arg);
			goto usage_err;
		}
		if (specs[idx].takes_value) {
			val = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (val == NULL) {
				fprintf(stderr, "vaultterm: option '%s' needs a value\n", arg);
				goto usage_err;
			}
		} else if (eq != NULL) {
			fprintf(stderr, "vaultterm: option '%.*s' takes no value\n", (int)len, name);
			goto usage_err;
		} else {
			val = "1";
		}
		if (a->counts[idx] >= CLI_MAX_MULTI || (!specs[idx].multi && a->counts[idx] > 0 &&
		    specs[idx].takes_value)) {
			fprintf(stderr, "vaultterm: option '%s' given too often\n", arg);
			goto usage_err;
		}
		a->values[idx][a->counts[idx]++] = val;
	}
	return 0;
 usage_err:
	fputs("\n", stderr);
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

int
cli_parse_sub(int argc, char **argv, const struct cli_subcmd *subs, size_t nsubs,
    const char *usage, const struct cli_subcmd **sub, struct cli_args *a)
{
	const char *name = NULL;
	size_t i = nsubs;
	int k, r, nargs;

	*sub = NULL;
	/* The first argument that is neither an option nor the value of a separate -format. */
	for (k = 1; k < argc && name == NULL; k++) {
		const char *s = argv[k];

		if (strcmp(s, "--") == 0)
			name = k + 1 < argc ? argv[k + 1] : "";
		else if (s[0] != '-' || s[1] == '\0')
			name = s;
		else if (strcmp(s + (s[1] == '-' ? 2 : 1), "format") == 0)
			k++;
	}
	for (i = 0; name != NULL && i < nsubs; i++)
		if (strcmp(name, subs[i].name) == 0)
			break;
	if (name == NULL || i == nsubs) {
		if ((r = cli_parse(argc, argv, NULL, 0, usage, a)) != 0)
			return r;
		if (name != NULL)
			fprintf(stderr, "vaultterm: unknown subcommand '%s'\n\n", name);
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	if ((r = cli_parse(argc, argv, subs[i].specs, subs[i].nspecs, subs[i].usage, a)) != 0)
		return r;
	VT_ASSERT(a->npositional > 0 && strcmp(a->positional[0], subs[i].name) == 0);
	nargs = a->npositional - 1;
	if (nargs < subs[i].min_args || (subs[i].max_args >= 0 && nargs > subs[i].max_args)) {
		fprintf(stderr, "vaultterm: %s to '%s'\n\n",
		    nargs < subs[i].min_args ? "missing arguments" : "too many arguments",
		    subs[i].name);
		fputs(subs[i].usage, stderr);
		return CLI_EXIT_USAGE;
	}
	*sub = &subs[i];
	return 0;
}

const char *
cli_opt(const struct cli_args *a, const char *name)
{
	int idx = spec_index(a->specs, a->nspecs, name, strlen(name));

	if (idx < 0 || a->counts[idx] == 0)
		return NULL;
	return a->values[idx][a->counts[idx] - 1];
}

int
cli_opt_count(const struct cli_args *a, const char *name)
{
	int idx = spec_index(a->specs, a->nspecs, name, strlen(name));

	return idx < 0 ? 0 : a->counts[idx];
}

const char *
cli_opt_at(const struct cli_args *a, const char *name, int i)
{
	int idx = spec_index(a->specs, a->nspecs, name, strlen(name));

	if (idx < 0 || i < 0 || i >= a->counts[idx])
		return NULL;
	return a->values[idx][i];
}

static char *
config_dir(void)
{
	const char *d = getenv("VAULTTERM_CONFIG_DIR");
	const char *home = getenv("HOME");

	if (d != NULL && d[0] != '\0')
		return xstrdup(d);
	if (home == NULL || home[0] == '\0')
		return NULL;
	return xasprintf("%s/.vaultterm", home);
}

char *
cli_config_dir(void)
{
	return config_dir();
}

static char *
token_path(void)
{
	char *d = config_dir(), *p;

	if (d == NULL)
		return NULL;
	p = xasprintf("%s/token", d);
	free(d);
	return p;
}

int
cli_token_save(const char *token)
{
	char *dir = config_dir(), *path = NULL, *tmp = NULL;
	size_t n = strlen(token);
	int fd = -1, r = CLI_EXIT_LOCAL;

	if (dir == NULL) {
		fprintf(stderr, "vaultterm: cannot save the token: set HOME or VAULTTERM_CONFIG_DIR\n");
		return r;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "vaultterm: cannot create %s: %s\n", dir, strerror(errno));
		goto out;
	}
	path = xasprintf("%s/token", dir);
	tmp = xasprintf("%s/.token.%ld", dir, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, token, n) != (ssize_t)n ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0 || close(fd) != 0) {
		fprintf(stderr, "vaultterm: cannot write %s: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "vaultterm: cannot save %s: %s\n", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	r = 0;
 out:
	free(dir);
	free(path);
	free(tmp);
	return r;
}

int
cli_token_delete(void)
{
	char *path = token_path();
	int r = 0;

	if (path == NULL)
		return 0;
	if (unlink(path) != 0 && errno != ENOENT) {
		fprintf(stderr, "vaultterm: cannot remove %s: %s\n", path, strerror(errno));
		r = CLI_EXIT_LOCAL;
	}
	free(path);
	return r;
}

/* The bearer: VAULTTERM_TOKEN, else the saved file. Caller wipes and frees. */
static char *
token_load(void)
{
	const char *env = getenv("VAULTTERM_TOKEN");
	char buf[CLI_TOKEN_MAX + 2], *path, *tok = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	if ((path = token_path()) == NULL)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		fprintf(stderr, "vaultterm: warning: the saved token file is readable by others; "
				"chmod 600 it\n");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && n <= CLI_TOKEN_MAX) {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] != '\0')
			tok = xstrdup(buf);
	}
	sodium_memzero(buf, sizeof(buf));
	return tok;
}

int
cli_token_present(void)
{
	char *tok = token_load();
	int present = tok != NULL;

	vt_str_wipe_free(tok);
	return present;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct vbuf *b = ud;

	if (nmemb != 0 && size > SIZE_MAX / nmemb)
		return 0;
	if (vbuf_put(b, data, size * nmemb) != 0)
		return 0; /* aborts the transfer: response too large */
	return size * nmemb;
}

char *
cli_urlencode(const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t i, o = 0, n = strlen(s);
	char *out = xmalloc(3 * n + 1);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hexd[c >> 4];
			out[o++] = hexd[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* The URL of path on the server (VAULTTERM_ADDR or the default); *addr is the server named. */
static char *
request_url(const char *path, const char **addr)
{
	const char *a = getenv("VAULTTERM_ADDR");

	if (a == NULL || a[0] == '\0')
		a = CLI_DEFAULT_ADDR;
	*addr = a;
	/* "http://host:4000/" and "http://host:4000" name the same server. */
	return xasprintf("%.*s%s", (int)(strlen(a) - (a[strlen(a) - 1] == '/')), a, path);
}

/* Adds "Authorization: Bearer ..." (*authz: the header, the caller wipes it), or says why not. */
static int
request_auth(struct curl_slist **hdrs, char **authz)
{
	char *token = token_load();

	*authz = NULL;
	if (token == NULL) {
		fprintf(stderr, "vaultterm: not logged in (run `vaultterm login`, or set "
				"VAULTTERM_TOKEN)\n");
		return CLI_EXIT_AUTH;
	}
	*authz = xasprintf("Authorization: Bearer %s", token);
	vt_str_wipe_free(token);
	*hdrs = curl_slist_append(*hdrs, *authz);
	return 0;
}

static void
request_common(CURL *c, const char *url, struct curl_slist *hdrs)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vaultterm-cli/" VT_VERSION);
}

/* Prints an API error response (the API.md error shape when it is one); the exit code. */
static int
request_error(long status, const json_t *resp)
{
	const json_t *e = json_object_get(resp, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	fprintf(stderr, "vaultterm: %s (%s, HTTP %ld)\n", msg != NULL ? msg : "request failed",
	    code != NULL ? code : "error", status);
	return status == 401 ? CLI_EXIT_AUTH : CLI_EXIT_API;
}

int
cli_call(const char *method, const char *path, const json_t *body, int auth, json_t **resp)
{
	const char *addr;
	struct curl_slist *hdrs = NULL;
	struct vbuf *rb = vbuf_new(CLI_RESPONSE_MAX);
	char *url, *payload = NULL, *authz = NULL;
	long status = 0;
	CURLcode cc;
	CURL *c = NULL;
	int r = CLI_EXIT_LOCAL;

	*resp = NULL;
	url = request_url(path, &addr);
	if (auth && (r = request_auth(&hdrs, &authz)) != 0)
		goto out;
	r = CLI_EXIT_LOCAL;
	if ((c = curl_easy_init()) == NULL)
		goto out;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (body != NULL) {
		payload = json_dumps(body, JSON_COMPACT);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
	}
	request_common(c, url, hdrs);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CLI_TIMEOUT_S);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		fprintf(stderr, "vaultterm: cannot reach %s: %s\n", addr, curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (vbuf_len(rb) > 0) {
		json_error_t je;

		*resp = json_loadb((const char *)vbuf_ptr(rb), vbuf_len(rb), 0, &je);
		if (*resp == NULL && status < 400) {
			fprintf(stderr, "vaultterm: the server sent a response that is not JSON "
					"(HTTP %ld)\n", status);
			goto out;
		}
	}
	if (status >= 400) {
		r = request_error(status, *resp);
		goto out;
	}
	r = CLI_EXIT_OK;
 out:
	if (r != CLI_EXIT_OK) {
		json_decref(*resp);
		*resp = NULL;
	}
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	vt_str_wipe_free(authz);
	vt_str_wipe_free(payload);
	vbuf_free(rb);
	free(url);
	return r;
}

/* Where a text response goes: to f once the status is a success, else into err. */
struct text_sink {
	CURL *c;
	FILE *f;
	struct vbuf *err;
	long status;
	size_t max, got;  /* max 0: unlimited */
	int write_failed;
};

static size_t
on_text(char *data, size_t size, size_t nmemb, void *ud)
{
	struct text_sink *s = ud;
	size_t n;

	if (nmemb != 0 && size > SIZE_MAX / nmemb)
		return 0;
	n = size * nmemb;
	if (s->status == 0)
		curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status < 200 || s->status > 299)
		return vbuf_put(s->err, data, n) == 0 ? n : 0;
	if (s->max != 0 && n > s->max - s->got)
		return 0; /* aborts the transfer: larger than any such response */
	if (n > 0 && fwrite(data, 1, n, s->f) != n) {
		s->write_failed = 1;
		return 0;
	}
	s->got += n;
	return n;
}

int
cli_get_text(const char *path, FILE *f, size_t max)
{
	const char *addr;
	struct curl_slist *hdrs = NULL;
	struct text_sink s;
	char *url, *authz = NULL;
	CURLcode cc;
	int r;

	memset(&s, 0, sizeof(s));
	s.f = f;
	s.max = max;
	s.err = vbuf_new(CLI_RESPONSE_MAX);
	url = request_url(path, &addr);
	if ((r = request_auth(&hdrs, &authz)) != 0)
		goto out;
	r = CLI_EXIT_LOCAL;
	hdrs = curl_slist_append(hdrs, "Accept: text/plain, application/json");
	if ((s.c = curl_easy_init()) == NULL)
		goto out;
	request_common(s.c, url, hdrs);
	curl_easy_setopt(s.c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(s.c, CURLOPT_WRITEFUNCTION, on_text);
	curl_easy_setopt(s.c, CURLOPT_WRITEDATA, &s);
	/* A whole log can take long: give up on a stalled transfer, not a slow one. */
	curl_easy_setopt(s.c, CURLOPT_CONNECTTIMEOUT, (long)CLI_TIMEOUT_S);
	curl_easy_setopt(s.c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(s.c, CURLOPT_LOW_SPEED_TIME, (long)CLI_TEXT_STALL_S);
	cc = curl_easy_perform(s.c);
	if (s.write_failed) {
		fprintf(stderr, "vaultterm: cannot write the output: %s\n", strerror(errno));
		goto out;
	}
	if (cc != CURLE_OK) {
		if (s.max != 0 && s.got > 0 && cc == CURLE_WRITE_ERROR)
			fprintf(stderr, "vaultterm: the response is larger than expected\n");
		else
			fprintf(stderr, "vaultterm: cannot reach %s: %s\n", addr,
			    curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(s.c, CURLINFO_RESPONSE_CODE, &s.status);
	if (s.status < 200 || s.status > 299) {
		json_t *e = json_loadb((const char *)vbuf_ptr(s.err), vbuf_len(s.err), 0, NULL);

		r = request_error(s.status, e);
		json_decref(e);
		goto out;
	}
	r = CLI_EXIT_OK;
 out:
	if (s.c != NULL)
		curl_easy_cleanup(s.c);
	curl_slist_free_all(hdrs);
	vt_str_wipe_free(authz);
	vbuf_free(s.err);
	free(url);
	return r;
}

int
cli_list_all(const char *path, json_t **items)
{
	json_t *all = json_array(), *resp = NULL;
	char *cursor = NULL, *page = NULL;
	const char *next;
	int r = CLI_EXIT_LOCAL, n;

	*items = NULL;
	for (n = 0; n < CLI_LIST_MAX_PAGES; n++) {
		if (cursor == NULL) {
			page = xstrdup(path);
		} else {
			char *enc = cli_urlencode(cursor);

			page = xasprintf("%s%ccursor=%s", path, strchr(path, '?') != NULL ? '&' : '?',
			    enc);
			free(enc);
		}
		r = cli_call("GET", page, NULL, 1, &resp);
		free(page);
		page = NULL;
		if (r != 0)
			goto out;
		if (!json_is_array(json_object_get(resp, "items"))) {
			fprintf(stderr, "vaultterm: the server's list has no items\n");
			r = CLI_EXIT_LOCAL;
			goto out;
		}
		json_array_extend(all, json_object_get(resp, "items"));
		next = json_string_value(json_object_get(resp, "next_cursor"));
		free(cursor);
		cursor = next != NULL ? xstrdup(next) : NULL;
		json_decref(resp);
		resp = NULL;
		if (cursor == NULL) {
			*items = all;
			all = NULL;
			r = 0;
			goto out;
		}
	}
	fprintf(stderr, "vaultterm: the list goes on for more than %d pages\n", CLI_LIST_MAX_PAGES);
	r = CLI_EXIT_LOCAL;
 out:
	json_decref(resp);
	json_decref(all);
	free(cursor);
	return r;
}

int
cli_is_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL) {
			return 0;
		}
	}
	return 1;
}

char *
cli_read_secret(const char *prompt, int from_stdin)
{
	char buf[CLI_SECRET_MAX + 2];
	struct termios old, noecho;
	int tty = !from_stdin && isatty(STDIN_FILENO);
	char *out = NULL;
	size_t n;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) != 0)
			return NULL;
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	if (fgets(buf, sizeof(buf), stdin) != NULL) {
		n = strcspn(buf, "\r\n");
		if (n <= CLI_SECRET_MAX) {
			buf[n] = '\0';
			out = xstrdup(buf);
		}
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	sodium_memzero(buf, sizeof(buf));
	return out;
}

void
cli_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (s != NULL) {
		printf("%s\n", s);
		free(s);
	}
}

/* Scalar → display string (caller frees). */
static char *
cell(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return xstrdup("-");
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	if (json_is_array(v)) {
		size_t i, o = 0, cap = 256;
		char *s = xmalloc(cap);
		json_t *e;

		s[0] = '\0';
		json_array_foreach(v, i, e) {
			char *c = cell(e);
			size_t need = o + strlen(c) + 2;

			if (need > cap) {
				cap = need * 2;
				s = xrealloc(s, cap);
			}
			o += (size_t)snprintf(s + o, cap - o, "%s%s", i > 0 ? "," : "", c);
			free(c);
		}
		return s;
	}
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Looks up "a.b" paths in nested objects. */
static const json_t *
path_get(const json_t *obj, const char *key)
{
	char buf[64];
	const char *dot = strchr(key, '.');

	if (dot == NULL)
		return json_object_get(obj, key);
	snprintf(buf, sizeof(buf), "%.*s", (int)(dot - key), key);
	return path_get(json_object_get(obj, buf), dot + 1);
}

int
cli_print_items(const struct cli_args *a, json_t *items, const char *const *cols,
    const char *const *headers, size_t ncols)
{
	if (a->format == CLI_FORMAT_JSON) {
		json_t *o = json_pack("{s:O, s:n}", "items", items, "next_cursor");

		cli_print_json(o);
		json_decref(o);
	} else {
		cli_print_table(items, cols, headers, ncols);
	}
	json_decref(items);
	return 0;
}

void
cli_print_table(const json_t *items, const char *const *cols, const char *const *headers,
    size_t ncols)
{
	size_t widths[16], i, j, n = json_array_size(items);

	VT_ASSERT(ncols <= 16);
	for (j = 0; j < ncols; j++)
		widths[j] = strlen(headers[j]);
	for (i = 0; i < n; i++) {
		for (j = 0; j < ncols; j++) {
			char *c = cell(path_get(json_array_get(items, i), cols[j]));

			if (strlen(c) > widths[j])
				widths[j] = strlen(c);
			free(c);
		}
	}
	for (j = 0; j < ncols; j++)
		printf("%-*s%s", (int)widths[j], headers[j], j + 1 < ncols ? "  " : "\n");
	for (i = 0; i < n; i++) {
		for (j = 0; j < ncols; j++) {
			char *c = cell(path_get(json_array_get(items, i), cols[j]));

			/* Escape control characters a hostile value could use on a terminal. */
			for (char *p = c; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					*p = '?';
			printf("%-*s%s", (int)widths[j], c, j + 1 < ncols ? "  " : "\n");
			free(c);
		}
	}
}

void
cli_print_object(const json_t *obj, const char *const *keys, const char *const *labels, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++)
		if (strlen(labels[i]) > w)
			w = strlen(labels[i]);
	for (i = 0; i < n; i++) {
		char *c = cell(path_get(obj, keys[i]));

		for (char *p = c; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		printf("%-*s  %s\n", (int)w, labels[i], c);
		free(c);
	}
}
