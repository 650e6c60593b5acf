// SPDX-License-Identifier: MIT
/* --config FILE (config.h): libinih reads it, the command's own handler applies each key. */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

#define MAX_GIVEN 128 /* options on one command line, or keys in one file */

/* The commands that read a configuration file: the sections a file may have. */
static const char *const sections[] = { "run", "record", "replay" };

/*
 * The values handed to the commands' handlers, which keep pointers to them
 * (--json, --cgroup, ...): allocated once and never freed, reachable from here.
 */
static char **kept;
static size_t nr_kept;

static const char *keep(const char *s)
{
	char **k = realloc(kept, (nr_kept + 1) * sizeof(*kept));
	char *d = strdup(s);

	if (!k || !d) {
		free(d);
		if (k)
			kept = k;
		return NULL;
	}
	kept = k;
	kept[nr_kept++] = d;
	return d;
}

/** struct parse - one file being applied */
struct parse {
	const struct cli_config_cmd *c;
	struct cli_config *cfg;
	const char *path;
	FILE *f;
	unsigned int line, nr_newlines; /* the line inih is on; '\n' read so far */
	bool failed;
	bool cmdline_target;  /* the command line gives one of c->target_group */
	int given[MAX_GIVEN]; /* option codes the command line gives */
	unsigned int nr_given;
	struct {
		int code;
		unsigned int line;
		bool in_section;
	} seen[MAX_GIVEN]; /* keys applied so far */
	unsigned int nr_seen;
	char where[4200]; /* "run: FILE:LINE", the handlers' prefix */
};

__attribute__((format(printf, 2, 3))) static void fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	fprintf(stderr, "ibs-promote %s: ", p->where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* inih's reader: fgets, counting lines; a line longer than inih's buffer is an error. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *s = fgets(str, num, p->f);
	size_t n;

	if (!s)
		return NULL;
	p->line = p->nr_newlines + 1;
	snprintf(p->where, sizeof(p->where), "%s: %s:%u", p->c->cmd, p->path, p->line);
	n = strlen(s);
	if (n && s[n - 1] == '\n')
		p->nr_newlines++;
	else if (!feof(p->f)) {
		fail(p, "a line longer than %d characters", num - 2);
		return NULL;
	}
	return s;
}

static bool in_list(const int *list, unsigned int n, int code)
{
	for (unsigned int i = 0; i < n; i++)
		if (list[i] == code)
			return true;
	return false;
}

static bool in_group(const int *group, int code)
{
	for (; group && *group; group++)
		if (*group == code)
			return true;
	return false;
}

/* true/false, yes/no, on/off, 1/0: 1, 0, or -1. */
static int parse_bool(const char *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

static const struct option *find_opt(const struct option *opts, const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts;
	return NULL;
}

/* A second value for a key: an error, unless the command's section overrides the top. */
static bool check_twice(struct parse *p, int code, bool in_section, const char *name)
{
	for (unsigned int i = 0; i < p->nr_seen; i++) {
		if (p->seen[i].code != code || (in_section && !p->seen[i].in_section))
			continue;
		fail(p, "key '%s' is given twice (first on line %u)", name, p->seen[i].line);
		return false;
	}
	if (p->nr_seen == MAX_GIVEN) {
		fail(p, "more than %d keys", MAX_GIVEN);
		return false;
	}
	p->seen[p->nr_seen].code = code;
	p->seen[p->nr_seen].line = p->line;
	p->seen[p->nr_seen++].in_section = in_section;
	return true;
}

static void record_kv(struct parse *p, const char *name, const char *value)
{
	struct cli_config *cfg = p->cfg;
	struct cli_config_kv *kv;

	if (!cfg)
		return;
	for (unsigned int i = 0; i < cfg->nr; i++) {
		if (!strcmp(cfg->kv[i].key, name)) { /* the section's value over the top's */
			free(cfg->kv[i].value);
			cfg->kv[i].value = strdup(value);
			return;
		}
	}
	kv = realloc(cfg->kv, (cfg->nr + 1) * sizeof(*kv));
	if (!kv)
		return;
	cfg->kv = kv;
	kv[cfg->nr].key = strdup(name);
	kv[cfg->nr++].value = strdup(value);
}

/* One key of the command's option table, not given on the command line: apply it. */
static int apply_key(struct parse *p, const struct option *o, const char *value)
{
	const char *arg = NULL;
	int h;

	if (o->has_arg == no_argument) {
		int b = parse_bool(value);

		if (b < 0) {
			fail(p, "--%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
			     o->name, value);
			return 0;
		}
		if (!b)
			return 1;
	} else if (!*value) {
		fail(p, "--%s: no value", o->name);
		return 0;
	} else if (!(arg = keep(value))) {
		fail(p, "--%s: %s", o->name, strerror(ENOMEM));
		return 0;
	}
	h = p->c->handle(p->c->ctx, o->val, arg, p->where);
	if (h <= 0) {
		if (!h) /* in the table but no handler took it: the command's mistake */
			fail(p, "--%s: not handled", o->name);
		p->failed = true;
		return 0;
	}
	return 1;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	const struct option *o;
	bool known = false;

	if (p->failed)
		return 1;
	for (size_t i = 0; *section && i < sizeof(sections) / sizeof(sections[0]); i++)
		known |= !strcmp(section, sections[i]);
	if (*section && !known) {
		fail(p, "unknown section [%s] (not run, record or replay)", section);
		return 0;
	}
	if (*section && strcmp(section, p->c->cmd))
		return 1; /* another command's */
	if (!strcmp(name, "config") || !strcmp(name, "help")) {
		fail(p, "key '%s' cannot be set in a configuration file", name);
		return 0;
	}
	o = find_opt(p->c->opts, name);
	if (!o) {
		fail(p, "unknown key '%s': %s has no such option", name, p->c->cmd);
		return 0;
	}
	if (!check_twice(p, o->val, *section != 0, name))
		return 0;
	record_kv(p, name, value);
	if (in_list(p->given, p->nr_given, o->val) ||
	    (p->cmdline_target && in_group(p->c->target_group, o->val)))
		return 1; /* the command line overrides the file */
	return apply_key(p, o, value);
}

/* --config on the command line, and the options it gives: a scan without handling. */
static const char *scan_cmdline(struct parse *p)
{
	const struct cli_config_cmd *c = p->c;
	const char *path = NULL;
	int saved = opterr, ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(c->argc, c->argv, c->shortopts, c->opts, NULL)) != -1) {
		if (ch == CLI_CONFIG_OPT)
			path = optarg;
		else if (ch != '?' && ch != ':' && p->nr_given < MAX_GIVEN)
			p->given[p->nr_given++] = ch;
		p->cmdline_target |= in_group(c->target_group, ch);
	}
	opterr = saved;
	optind = 1;
	return path;
}

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "not a regular file";
}

/* Open @path, a regular file (a FIFO would block: O_NONBLOCK until it is known). */
static FILE *open_config(const char *cmd, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	FILE *f;

	if (fd < 0) {
		fprintf(stderr, "ibs-promote %s: --config: cannot open '%s': %s\n", cmd, path,
			strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "ibs-promote %s: --config: '%s' is %s, not a regular file\n", cmd,
			path, file_kind(st.st_mode));
		close(fd);
		return NULL;
	}
	fcntl(fd, F_SETFL, 0);
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

int cli_config__apply(const struct cli_config_cmd *c, struct cli_config *cfg)
{
	struct parse *p = calloc(1, sizeof(*p));
	const char *path;
	int rc = -1, ret;

	if (cfg)
		memset(cfg, 0, sizeof(*cfg));
	if (!p)
		return EXIT_FAIL;
	p->c = c;
	p->cfg = cfg;
	path = scan_cmdline(p);
	if (!path)
		goto out;
	p->path = path;
	if (cfg)
		cfg->path = path;
	p->f = open_config(c->cmd, path);
	if (!p->f) {
		rc = EXIT_USAGE;
		goto out;
	}
	snprintf(p->where, sizeof(p->where), "%s: %s", c->cmd, path);
	ret = ini_parse_stream(read_line, p, on_key, p);
	if (ret > 0 && !p->failed) {
		snprintf(p->where, sizeof(p->where), "%s: %s:%d", c->cmd, path, ret);
		fail(p, "not a 'key = value' line, a [section] or a comment");
	} else if (ret < 0 && !p->failed) {
		fail(p, "cannot read it: %s", strerror(ret == -2 ? ENOMEM : EIO));
	}
	if (ferror(p->f) && !p->failed)
		fail(p, "cannot read it: %s", strerror(errno));
	fclose(p->f);
	if (p->failed)
		rc = EXIT_USAGE;
out:
	free(p);
	return rc;
}

void cli_config__release(struct cli_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr; i++) {
		free(cfg->kv[i].key);
		free(cfg->kv[i].value);
	}
	free(cfg->kv);
	cfg->kv = NULL;
	cfg->nr = 0;
}

static const char *value_of(const struct cli_config *cfg, const char *key)
{
	for (unsigned int i = 0; i < cfg->nr; i++)
		if (!strcmp(cfg->kv[i].key, key))
			return cfg->kv[i].value;
	return NULL;
}

static unsigned int warn_keys(const struct cli_config *a, const struct cli_config *b,
			      bool (*reloadable)(const char *key), bool only_missing)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < a->nr; i++) {
		const char *k = a->kv[i].key, *v = value_of(b, k);

		if (reloadable(k) || (v && (only_missing || !strcmp(v, a->kv[i].value))))
			continue;
		fprintf(stderr,
			"ibs-promote: %s: '%s' changed: it needs a restart; the value in effect "
			"stays\n",
			a->path, k);
		n++;
	}
	return n;
}

unsigned int cli_config__warn_changed(const struct cli_config *then, const struct cli_config *now,
				      bool (*reloadable)(const char *key))
{
	return warn_keys(now, then, reloadable, false) + warn_keys(then, now, reloadable, true);
}
