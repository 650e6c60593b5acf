// SPDX-License-Identifier: MIT
/*
 * Prometheus metrics (docs/metrics.md): the text engine/telemetry makes
 * from the counters, checked against the doc and by promtool; and the
 * daemon serving it (run --metrics-listen) and writing it
 * (--metrics-textfile) while it runs for real with the soft sampler.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine_fixtures.h"
#include "helpers.h"
#include "ibsp/daemon.h"
#include "ibsp/telemetry.h"

#define DOC IBSP_FIXTURE_DIR "/../../docs/metrics.md"

/* promtool check metrics on @path: its exit status; the test is skipped without promtool. */
static int promtool(const char *path, char **msg)
{
	char cmd[600], *out;
	int rc;

	rc = run_cmd("command -v promtool", &out, NULL);
	free(out);
	if (rc)
		cr_skip_test(
		    "promtool is not installed (Debian: prometheus; cmake/setup-debian.sh)");
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	rc = run_cmd(cmd, msg, NULL);
	return rc;
}

/* The value of the sample line that starts with @series followed by a space; -1 if none. */
static double value_of(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	}
	return -1;
}

static void fill(struct ibsp_telemetry_counts *c)
{
	c->samples = 100;
	c->decoded = 90;
	c->by_sampler[IBSP_SAMPLER_IBS] = 90;
	c->dropped[IBSP_DROP_OP_INVALID] = 10;
	c->lost = 3;
	c->pages_tracked = 1000;
	c->threshold = 40; /* 2.5 samples */
	c->node_queries = 12;
	c->node_queries_failed = 5;
	c->by_errno[IBSP_MIG_EBUSY] = 4;
	/* 3 nodes: route 2->0 promotions, 0->2 demotions */
	c->moves[(IBSP_TELE_PROMOTION * 3 + 2) * 3 + 0] =
	    (struct ibsp_telemetry_moves){ 20, 20 * 4096, 15, 15 * 4096 };
	c->moves[(IBSP_TELE_DEMOTION * 3 + 0) * 3 + 2] =
	    (struct ibsp_telemetry_moves){ 7, 7 * 2097152, 6, 6 * 2097152 };
	c->total_bytes[1] = 16ULL << 30;
	c->cpu_user_s = 1.25;
	c->noise = 0.0625;
	c->near_agreement = 0.875;
	c->owner_agreement = 0.9375;
	c->thread_moves = 6;
}

Test(metrics, text_has_the_counters)
{
	struct ibsp_topology *topo = topo_2s_cxl();
	struct ibsp_telemetry *t = ibsp_telemetry__new(topo, "ibs", false);
	char *text;

	cr_assert(t);
	fill(ibsp_telemetry__counts(t));
	text = ibsp_telemetry__metrics(t, 12.5);
	cr_assert(text);
	cr_expect_eq(value_of(text, "ibs_promote_samples_total{sampler=\"ibs\"}"), 90);
	cr_expect_eq(value_of(text, "ibs_promote_samples_total{sampler=\"soft\"}"), 0);
	cr_expect_eq(value_of(text, "ibs_promote_sample_records_total"), 100);
	cr_expect_eq(value_of(text, "ibs_promote_lost_total"), 3);
	cr_expect_eq(value_of(text, "ibs_promote_dropped_samples_total{reason=\"op_invalid\"}"),
		     10);
	cr_expect_eq(value_of(text, "ibs_promote_heat_pages"), 1000);
	cr_expect_eq(value_of(text, "ibs_promote_threshold_samples"), 2.5);
	cr_expect_eq(value_of(text, "ibs_promote_sampling_noise_ratio"), 0.0625);
	cr_expect_eq(value_of(text, "ibs_promote_neighbour_agreement_ratio"), 0.875);
	cr_expect_eq(value_of(text, "ibs_promote_owner_agreement_ratio"), 0.9375);
	cr_expect_eq(value_of(text, "ibs_promote_thread_moves_total"), 6);
	cr_expect_eq(value_of(text, "ibs_promote_node_queries_total{result=\"found\"}"), 7);
	cr_expect_eq(value_of(text, "ibs_promote_node_queries_total{result=\"no_page\"}"), 5);
	cr_expect_eq(value_of(text, "ibs_promote_migration_failures_total{errno=\"ebusy\"}"), 4);
	cr_expect_eq(
	    value_of(text,
		     "ibs_promote_planned_pages_total{kind=\"promotion\",src=\"2\",dst=\"0\"}"),
	    20);
	cr_expect_eq(
	    value_of(text,
		     "ibs_promote_migrated_bytes_total{kind=\"promotion\",src=\"2\",dst=\"0\"}"),
	    15 * 4096);
	cr_expect_eq(
	    value_of(text,
		     "ibs_promote_migrated_bytes_total{kind=\"demotion\",src=\"0\",dst=\"2\"}"),
	    6.0 * 2097152);
	cr_expect_eq(
	    value_of(text,
		     "ibs_promote_planned_pages_total{kind=\"demotion\",src=\"2\",dst=\"0\"}"),
	    0);
	cr_expect_eq(value_of(text, "ibs_promote_planned_pages_total{kind=\"promotion\",src=\"0\","
				    "dst=\"0\"}"),
		     -1, "no route from a node to itself");
	cr_expect_eq(value_of(text, "ibs_promote_node_total_bytes{node=\"1\"}"), 16.0 * (1 << 30));
	cr_expect_eq(value_of(text, "ibs_promote_node_top_tier{node=\"2\"}"), 0);
	cr_expect_eq(value_of(text, "ibs_promote_cpu_seconds_total{mode=\"user\"}"), 1.25);
	cr_expect_eq(value_of(text, "ibs_promote_uptime_seconds"), 12.5);
	cr_expect_eq(value_of(text, "ibs_promote_info{sampler=\"ibs\",dry_run=\"false\"}"), 1);
	free(text);
	ibsp_telemetry__delete(t);
	ibsp_topology__delete(topo);
}

/*
 * The noise estimate and the neighbours' agreement are gauges only once the
 * engine knows them: no sample of either before.
 */
Test(metrics, noise_absent_until_known)
{
	struct ibsp_topology *topo = topo_2s_cxl();
	struct ibsp_telemetry *t = ibsp_telemetry__new(topo, "ibs", false);
	char *text;

	cr_assert(t);
	text = ibsp_telemetry__metrics(t, 1.0);
	cr_assert(text);
	cr_expect_null(strstr(text, "sampling_noise"), "%s", text);
	cr_expect_null(strstr(text, "neighbour_agreement"), "%s", text);
	cr_expect_null(strstr(text, "owner_agreement"), "%s", text);
	cr_expect_eq(value_of(text, "ibs_promote_thread_moves_total"), 0);
	free(text);
	ibsp_telemetry__counts(t)->noise = 0.0;
	ibsp_telemetry__counts(t)->near_agreement = 0.0;
	ibsp_telemetry__counts(t)->owner_agreement = 0.0;
	text = ibsp_telemetry__metrics(t, 2.0);
	cr_assert(text);
	cr_expect_eq(value_of(text, "ibs_promote_sampling_noise_ratio"), 0.0);
	cr_expect_eq(value_of(text, "ibs_promote_neighbour_agreement_ratio"), 0.0);
	cr_expect_eq(value_of(text, "ibs_promote_owner_agreement_ratio"), 0.0);
	free(text);
	ibsp_telemetry__delete(t);
	ibsp_topology__delete(topo);
}

/* Every family has HELP and TYPE, and docs/metrics.md lists each with that type. */
Test(metrics, families_match_the_doc)
{
	struct ibsp_topology *topo = topo_2s_cxl();
	struct ibsp_telemetry *t = ibsp_telemetry__new(topo, "soft", true);
	size_t len, families = 0;
	char *doc = (char *)slurp(DOC, &len), *text, *save = NULL, want[160];

	cr_assert(t);
	text = ibsp_telemetry__metrics(t, 1.0);
	cr_assert(text);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[96], type[16];

		if (sscanf(l, "# TYPE %95s %15s", name, type) != 2)
			continue;
		families++;
		snprintf(want, sizeof(want), "| `%s` | %s |", name, type);
		cr_expect(strstr(doc, want), "docs/metrics.md lacks the row %s", want);
	}
	cr_expect_gt(families, 30);
	free(text);
	free(doc);
	ibsp_telemetry__delete(t);
	ibsp_topology__delete(topo);
}

Test(metrics, promtool_accepts_the_text)
{
	struct ibsp_topology *topo = topo_2s_cxl();
	struct ibsp_telemetry *t = ibsp_telemetry__new(topo, "ibs", false);
	const char *path = tmp_path("unit.prom");
	char *text, *msg;

	cr_assert(t);
	fill(ibsp_telemetry__counts(t));
	text = ibsp_telemetry__metrics(t, 3.0);
	cr_assert(text);
	spit(path, text, strlen(text));
	cr_expect_eq(promtool(path, &msg), 0, "promtool: %s", msg);
	cr_expect_str_empty(msg, "lint problems: %s", msg);
	free(msg);
	free(text);
	ibsp_telemetry__delete(t);
	ibsp_topology__delete(topo);
}

Test(metrics, listen_addresses)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *why;

	cr_assert_eq(ibsp_metrics_addr__parse("9464", &ss, &len, &why), 0);
	cr_expect_eq(ss.ss_family, AF_INET);
	cr_expect_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9464);
	cr_expect_eq(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr), INADDR_LOOPBACK);
	cr_assert_eq(ibsp_metrics_addr__parse("0.0.0.0:80", &ss, &len, &why), 0);
	cr_expect_eq(((struct sockaddr_in *)&ss)->sin_addr.s_addr, INADDR_ANY);
	cr_assert_eq(ibsp_metrics_addr__parse("[::1]:9464", &ss, &len, &why), 0);
	cr_expect_eq(ss.ss_family, AF_INET6);
	cr_expect_eq(len, sizeof(struct sockaddr_in6));
	const char *bad[] = { "",	 "x",	  "65536",    "-1",	  ":9464", "localhost:9464",
			      "1.2.3:9", "[::1]", "::1:9464", "1.2.3.4:", "9464 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(ibsp_metrics_addr__parse(bad[i], &ss, &len, &why), -EINVAL, "'%s'",
			     bad[i]);
}

/* A port free now on 127.0.0.1 (the kernel's choice). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* One HTTP/1.0 request; the whole response, or NULL when nothing listens. */
static char *http(int port, const char *method, const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	size_t len = 0, cap = 1 << 16;
	char req[128], *buf;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	cr_assert(fd >= 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return NULL;
	}
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, path);
	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	buf = malloc(cap);
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (len == cap - 1)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = 0;
	close(fd);
	return buf;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* `run` in the background with stderr to @errpath. */
static pid_t start_run(const char *args, const char *errpath)
{
	char cmd[1024];
	pid_t p;

	snprintf(cmd, sizeof(cmd), "exec %s run --sampler=soft -a --dry-run %s >/dev/null 2>%s",
		 IBSP_CLI, args, errpath);
	p = fork();
	cr_assert(p >= 0);
	if (!p) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return p;
}

static int wait_run(pid_t p, const char *errpath, char **err)
{
	size_t len;
	int st;

	cr_assert_eq(waitpid(p, &st, 0), p);
	*err = (char *)slurp(errpath, &len);
	if (WIFEXITED(st) && WEXITSTATUS(st) && strstr(*err, "Permission denied"))
		cr_skip_test("software perf events are not permitted here: %s", *err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The body of a response, after the blank line. */
static const char *body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	cr_assert(b, "no header end: %s", resp);
	return b + 4;
}

/* The live daemon serves /metrics while it runs; promtool accepts what it serves. */
Test(metrics, run_serves_metrics, .timeout = 60)
{
	const char *errpath = tmp_path("serve.stderr"), *saved = tmp_path("served.prom");
	char args[128], *resp = NULL, *other, *post, *err, *msg;
	int port = free_port(), rc;
	pid_t p;

	snprintf(args, sizeof(args), "--duration 3 --interval 500 --metrics-listen 127.0.0.1:%d",
		 port);
	p = start_run(args, errpath);
	/* the setup takes a moment; an interval or two of samples after it */
	for (int i = 0; i < 100 && !resp; i++) {
		sleep_ms(50);
		resp = http(port, "GET", "/metrics");
	}
	if (resp) {
		sleep_ms(1500);
		free(resp);
		resp = http(port, "GET", "/metrics");
	}
	other = http(port, "GET", "/other");
	post = http(port, "POST", "/metrics");
	rc = wait_run(p, errpath, &err);
	cr_assert_eq(rc, 0, "run exited %d: %s", rc, err);
	cr_assert(resp, "nothing listened on port %d: %s", port, err);
	cr_expect(!strncmp(resp, "HTTP/1.", 7) && strstr(resp, " 200 "), "%s", resp);
	cr_expect(strstr(resp, "Content-Type: text/plain; version=0.0.4"), "%s", resp);
	cr_expect(strstr(resp, "# HELP ibs_promote_samples_total "));
	cr_expect(strstr(resp, "# TYPE ibs_promote_samples_total counter"));
	cr_expect_gt(value_of(body_of(resp), "ibs_promote_samples_total{sampler=\"soft\"}"), 0,
		     "%s", resp);
	cr_expect_gt(value_of(body_of(resp), "ibs_promote_uptime_seconds"), 1);
	cr_expect_eq(value_of(body_of(resp), "ibs_promote_info{sampler=\"soft\",dry_run=\"true\"}"),
		     1);
	cr_expect(other && strstr(other, " 404 "), "%s", other ? other : "(none)");
	cr_expect(post && strstr(post, " 405 "), "%s", post ? post : "(none)");
	spit(saved, body_of(resp), strlen(body_of(resp)));
	cr_expect_eq(promtool(saved, &msg), 0, "promtool: %s", msg);
	cr_expect_str_empty(msg, "lint problems: %s", msg);
	cr_expect_null(http(port, "GET", "/metrics"), "the server stops with the run");
	free(msg);
	free(resp);
	free(other);
	free(post);
	free(err);
}

/* --metrics-textfile: the same text, whole (renamed into place), the totals at the end. */
Test(metrics, run_writes_textfile, .timeout = 60)
{
	const char *errpath = tmp_path("tf.stderr"), *path = tmp_path("ibsp.prom");
	char args[512], tmp[400], *text, *err, *msg;
	size_t len;
	int rc;

	snprintf(args, sizeof(args), "--duration 2 --interval 500 --metrics-textfile %s", path);
	rc = wait_run(start_run(args, errpath), errpath, &err);
	cr_assert_eq(rc, 0, "run exited %d: %s", rc, err);
	text = (char *)slurp(path, &len);
	cr_expect_gt(value_of(text, "ibs_promote_samples_total{sampler=\"soft\"}"), 0, "%s", text);
	cr_expect(strstr(text, "# HELP ibs_promote_heat_pages "));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_expect_neq(access(tmp, F_OK), 0, "the temp file is renamed away");
	cr_expect_eq(promtool(path, &msg), 0, "promtool: %s", msg);
	cr_expect_str_empty(msg, "lint problems: %s", msg);
	free(msg);
	free(text);
	free(err);
}

/* Bad values: a usage error (2) naming the option; an unusable file or port: 1. */
Test(metrics, bad_options)
{
	char cmd[1024], *out, *err;
	int rc, port = free_port(), fd;
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	snprintf(cmd, sizeof(cmd),
		 "%s run --sampler=soft -a --dry-run --duration 1 "
		 "--metrics-listen localhost:9x",
		 IBSP_CLI);
	rc = run_cmd(cmd, &out, &err);
	cr_expect_eq(rc, 2, "%s", err);
	cr_expect(strstr(err, "--metrics-listen 'localhost:9x'"), "%s", err);
	free(out);
	free(err);

	snprintf(cmd, sizeof(cmd),
		 "%s run --sampler=soft -a --dry-run --duration 1 "
		 "--metrics-textfile /nonexistent-dir/x.prom",
		 IBSP_CLI);
	rc = run_cmd(cmd, &out, &err);
	if (rc && strstr(err, "Permission denied") && !strstr(err, "metrics"))
		cr_skip_test("software perf events are not permitted here: %s", err);
	cr_expect_eq(rc, 1, "%s", err);
	cr_expect(strstr(err, "metrics-textfile /nonexistent-dir/x.prom"), "%s", err);
	free(out);
	free(err);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	snprintf(cmd, sizeof(cmd),
		 "%s run --sampler=soft -a --dry-run --duration 1 "
		 "--metrics-listen %d",
		 IBSP_CLI, port);
	rc = run_cmd(cmd, &out, &err);
	close(fd);
	if (rc && strstr(err, "Permission denied") && !strstr(err, "metrics"))
		cr_skip_test("software perf events are not permitted here: %s", err);
	cr_expect_eq(rc, 1, "%s", err);
	cr_expect(strstr(err, "cannot listen: Address already in use"), "%s", err);
	free(out);
	free(err);
}
