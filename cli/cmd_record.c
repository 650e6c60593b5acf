// SPDX-License-Identifier: MIT
/*
 * ibs-promote record: live capture into a perf.data file. Wires the sampler,
 * the capture and the writer together; the file is finished (features and
 * header written) on every exit path, including SIGINT and SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ibsp/capture.h"
#include "ibsp/perf_file.h"
#include "ibsp/sampler.h"
#include "ibsp/topology.h"

static const char record_usage[] =
    "Usage: ibs-promote record -o FILE [-a | --pid PID | --cgroup PATH] [OPTIONS] [-- CMD [ARGS]]\n"
    "\n"
    "Sample memory accesses on every online CPU and write them to FILE (perf.data; perf\n"
    "script and perf report read it). With CMD, run it and record its process tree (or\n"
    "the whole system with -a) until it exits.\n"
    "\n"
    "  -o, --output FILE       the recording (required)\n"
    "  -a, --all-cpus          every task on every online CPU\n"
    "  -p, --pid PID           one process, its threads and their children\n"
    "  -G, --cgroup PATH       the tasks of one cgroup v2 directory and its descendants\n"
    "  -s, --sampler NAME      auto (IBS, then PEBS; default), ibs, pebs, or soft (coarse\n"
    "                          page faults: first touches and hinting faults only)\n"
    "  -c, --period N          events per sample: IBS ops (or cycles), a multiple of 16 in\n"
    "                          [16, 1048560] (more with OpCntExt); PEBS loads; page faults\n"
    "  -d, --duration SECONDS  stop after this long (default: until CMD exits or Ctrl-C)\n"
    "      --ldlat CYCLES      PEBS load-latency threshold (default 30)\n"
    "      --ibs-cycles        IBS: count cycles instead of dispatched ops\n"
    "      --l3-miss           IBS: keep only ops that missed L3 (Zen4+)\n"
    "      --mmap-pages N      ring buffer data pages per CPU, a power of two (default 128)\n"
    "      --wakeup-bytes N    wake up to drain every N bytes (default a quarter ring)\n"
    "\n"
    "Examples:\n"
    "  ibs-promote record -o ibs.data -a --duration 10\n"
    "  ibs-promote record -o pf.data --sampler=soft -- ./workload --size 4G\n"
    "  ibs-promote record -o db.data --cgroup /sys/fs/cgroup/db.slice -d 30\n"
    "\n"
    "Exit status: 0 recorded; 1 error (the file is still finished and readable);\n"
    "2 bad command line; 4 no hardware sampler for --sampler=auto.\n";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int write_record(const struct perf_event_header *rec, void *ctx)
{
	return ibsp_perf_writer__write(ctx, rec);
}

/* Drain every ring; mark the round only when records were written. */
static int drain_round(struct ibsp_capture *cap, struct ibsp_perf_writer *w)
{
	uint64_t before = ibsp_capture__stats(cap)->records;
	int ret = ibsp_capture__drain(cap, write_record, w);

	if (!ret && ibsp_capture__stats(cap)->records != before)
		ret = ibsp_perf_writer__finish_round(w);
	return ret;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_u64(const char *opt, const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (!*s || *end || errno || s[0] == '-') {
		fprintf(stderr, "ibs-promote record: %s: '%s' is not a number\n", opt, s);
		return -1;
	}
	return 0;
}

static enum ibsp_sampler_kind parse_sampler(const char *s)
{
	if (!strcmp(s, "ibs"))
		return IBSP_SAMPLER_IBS;
	if (!strcmp(s, "pebs"))
		return IBSP_SAMPLER_PEBS;
	if (!strcmp(s, "soft"))
		return IBSP_SAMPLER_SOFT;
	return IBSP_SAMPLER_NONE;
}

/* The workload: forked now, held on a pipe until the events are enabled, then exec'd. */
struct workload {
	pid_t pid;
	int go_fd;  /* write a byte to release it */
	int err_fd; /* reads errno if exec failed (CLOEXEC pipe) */
};

static int workload_fork(struct workload *wl, char **argv)
{
	int go[2], err[2];

	if (pipe2(go, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	wl->pid = fork();
	if (wl->pid < 0)
		return -errno;
	if (wl->pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(err[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		e = errno;
		if (write(err[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(err[1]);
	wl->go_fd = go[1];
	wl->err_fd = err[0];
	return 0;
}

static int workload_start(struct workload *wl, const char *cmd)
{
	int e = 0;

	if (write(wl->go_fd, "g", 1) != 1)
		return -errno;
	close(wl->go_fd);
	if (read(wl->err_fd, &e, sizeof(e)) == sizeof(e)) {
		fprintf(stderr, "ibs-promote record: cannot run '%s': %s\n", cmd, strerror(e));
		close(wl->err_fd);
		return -e;
	}
	close(wl->err_fd);
	return 0;
}

struct record_env {
	const char *output;
	enum ibsp_capture_target target;
	bool all_cpus;
	pid_t pid;
	const char *cgroup;
	enum ibsp_sampler_kind sampler; /* NONE = auto */
	uint64_t period;
	double duration_s;
	uint32_t ldlat, mmap_pages, wakeup_bytes;
	bool ibs_cycles, l3_miss;
	char **cmd;
};

static int parse_args(int argc, char **argv, struct record_env *env)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "all-cpus", no_argument, NULL, 'a' },
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'G' },
		{ "sampler", required_argument, NULL, 's' },
		{ "period", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ldlat", required_argument, NULL, 1 },
		{ "ibs-cycles", no_argument, NULL, 2 },
		{ "l3-miss", no_argument, NULL, 3 },
		{ "mmap-pages", required_argument, NULL, 4 },
		{ "wakeup-bytes", required_argument, NULL, 5 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, targets = 0;
	uint64_t v;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:ap:G:s:c:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			env->output = optarg;
			break;
		case 'a':
			env->all_cpus = true;
			targets++;
			break;
		case 'p':
			if (parse_u64("--pid", optarg, &v) || !v || v > INT32_MAX)
				return fprintf(stderr, "ibs-promote record: --pid: bad pid\n"), -1;
			env->pid = (pid_t)v;
			env->target = IBSP_TARGET_PID;
			targets++;
			break;
		case 'G':
			env->cgroup = optarg;
			env->target = IBSP_TARGET_CGROUP;
			targets++;
			break;
		case 's':
			if (!strcmp(optarg, "auto")) {
				env->sampler = IBSP_SAMPLER_NONE;
			} else if ((env->sampler = parse_sampler(optarg)) == IBSP_SAMPLER_NONE) {
				fprintf(stderr,
					"ibs-promote record: --sampler: '%s' is not auto, ibs, "
					"pebs or soft\n",
					optarg);
				return -1;
			}
			break;
		case 'c':
			if (parse_u64("--period", optarg, &env->period) || !env->period)
				return -1;
			break;
		case 'd':
			env->duration_s = strtod(optarg, &end);
			if (!*optarg || *end || env->duration_s <= 0) {
				fprintf(stderr,
					"ibs-promote record: --duration: '%s' is not a positive "
					"number of seconds\n",
					optarg);
				return -1;
			}
			break;
		case 1:
			if (parse_u64("--ldlat", optarg, &v) || !v || v > 65535)
				return -1;
			env->ldlat = (uint32_t)v;
			break;
		case 2:
			env->ibs_cycles = true;
			break;
		case 3:
			env->l3_miss = true;
			break;
		case 4:
			if (parse_u64("--mmap-pages", optarg, &v) || !v || (v & (v - 1)) ||
			    v > 1 << 20) {
				fprintf(
				    stderr,
				    "ibs-promote record: --mmap-pages must be a power of two\n");
				return -1;
			}
			env->mmap_pages = (uint32_t)v;
			break;
		case 5:
			if (parse_u64("--wakeup-bytes", optarg, &v) || !v || v > UINT32_MAX)
				return -1;
			env->wakeup_bytes = (uint32_t)v;
			break;
		case 'h':
			fputs(record_usage, stdout);
			exit(EXIT_OK);
		default:
			return -1;
		}
	}
	if (optind < argc)
		env->cmd = argv + optind;
	if (!env->output) {
		fprintf(stderr, "ibs-promote record: -o FILE is required\n");
		return -1;
	}
	if (targets > 1) {
		fprintf(stderr, "ibs-promote record: give only one of -a, --pid, --cgroup\n");
		return -1;
	}
	if (!targets && !env->cmd) {
		fprintf(stderr,
			"ibs-promote record: say what to record: -a, --pid, --cgroup or -- CMD\n");
		return -1;
	}
	if (env->cmd && env->target != IBSP_TARGET_ALL_CPUS) {
		fprintf(stderr, "ibs-promote record: a command cannot be combined with --pid or "
				"--cgroup\n");
		return -1;
	}
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct record_env env = { .sampler = IBSP_SAMPLER_NONE };
	struct ibsp_sampler_opts sopts = { .sz = sizeof(sopts) };
	struct ibsp_capture_opts copts = { .sz = sizeof(copts) };
	struct ibsp_recording_info info = { 0 };
	struct ibsp_host_caps caps;
	struct ibsp_event_desc *events = NULL;
	struct ibsp_capture *cap = NULL;
	struct ibsp_perf_writer *w = NULL;
	struct ibsp_topology *topo = NULL;
	struct workload wl = { .pid = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	int *leader = NULL, wl_status = 0, rc = EXIT_OK, ret;
	uint32_t nr = 0;
	double t0;

	if (parse_args(argc, argv, &env)) {
		fputs("ibs-promote record: see 'ibs-promote record --help'\n", stderr);
		return EXIT_USAGE;
	}
	/* Before any file exists: a signal from here on still ends in a finished recording. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	t0 = now_s();
	ibsp_host_caps__read("/sys", &caps);
	sopts.kind = env.sampler;
	sopts.period = env.period;
	sopts.ldlat_cycles = env.ldlat;
	sopts.ibs_count_cycles = env.ibs_cycles;
	sopts.ibs_l3_miss_only = env.l3_miss;
	if (sopts.kind == IBSP_SAMPLER_NONE) {
		char why[1024];

		sopts.kind = ibsp_sampler__auto(&sopts, &caps, why, sizeof(why));
		if (sopts.kind == IBSP_SAMPLER_NONE) {
			fprintf(stderr, "ibs-promote record: %s\n", why);
			return EXIT_NOHW;
		}
	}
	if (sopts.kind == IBSP_SAMPLER_SOFT)
		fprintf(stderr,
			"ibs-promote record: the soft sampler is coarse: it sees first touches "
			"and NUMA hinting faults, not every access\n");
	if (ibsp_sampler__events(&sopts, &caps, &events, &leader, &nr))
		return EXIT_FAIL;

	if (env.cmd) {
		ret = workload_fork(&wl, env.cmd);
		if (ret) {
			fprintf(stderr, "ibs-promote record: cannot fork: %s\n", strerror(-ret));
			rc = EXIT_FAIL;
			goto out;
		}
		if (!env.all_cpus) {
			env.target = IBSP_TARGET_PID;
			env.pid = wl.pid;
			copts.enable_on_exec = true;
		}
	}
	copts.target = env.target;
	copts.pid = env.pid;
	copts.cgroup_path = env.cgroup;
	copts.mmap_pages = env.mmap_pages;
	copts.wakeup_bytes = env.wakeup_bytes;
	if (ibsp_capture__new(events, leader, nr, &copts, &cap)) {
		rc = EXIT_FAIL;
		goto out;
	}
	if (ibsp_topology__from_host("/sys", &topo) ||
	    ibsp_recording_info__from_host(&info, topo, argc + 1, argv - 1)) {
		rc = EXIT_FAIL;
		goto out;
	}
	topo = NULL; /* owned by info now */
	if (ibsp_perf_writer__open(env.output, &info, events, nr, &w)) {
		rc = EXIT_FAIL;
		goto out;
	}
	/* Name the tasks already running; a workload gets its COMM from its exec. */
	if (!env.cmd || env.all_cpus) {
		ret = ibsp_synthesize_comms(
		    env.target == IBSP_TARGET_PID ? env.pid : -1, &events[0].attr,
		    events[0].nr_ids ? events[0].ids[0] : 0, write_record, w);
		if (ret) {
			rc = EXIT_FAIL;
			goto finish;
		}
	}
	if (stop_signal)
		goto finish; /* interrupted while setting up: still finish the file */
	t0 = now_s();	     /* --duration counts from here */
	if (!copts.enable_on_exec)
		ibsp_capture__enable(cap);
	if (env.cmd && workload_start(&wl, env.cmd[0])) {
		rc = EXIT_FAIL;
		goto finish;
	}
	while (!stop_signal) {
		ret = ibsp_capture__poll(cap, 100);
		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "ibs-promote record: poll: %s\n", strerror(-ret));
			rc = EXIT_FAIL;
			break;
		}
		if (drain_round(cap, w)) {
			rc = EXIT_FAIL;
			break;
		}
		if (!ibsp_capture__alive(cap))
			break; /* every task of the target exited */
		if (env.duration_s > 0 && now_s() - t0 >= env.duration_s)
			break;
		if (wl.pid > 0 && waitpid(wl.pid, &wl_status, WNOHANG) == wl.pid) {
			wl.pid = -1;
			break;
		}
	}
finish:
	ibsp_capture__disable(cap);
	if (drain_round(cap, w))
		rc = EXIT_FAIL;
	{
		const struct ibsp_capture_stats *st = ibsp_capture__stats(cap);
		double ratio = ibsp_capture__running_ratio(cap);
		uint64_t bytes = ibsp_perf_writer__bytes(w);

		if (ibsp_perf_writer__close(w))
			rc = EXIT_FAIL;
		w = NULL;
		fprintf(stderr,
			"ibs-promote record: %" PRIu64 " samples (%" PRIu64 " bytes) from %u CPUs "
			"in %.1f s to %s; lost %" PRIu64 " records, %" PRIu64 " throttles%s\n",
			st->samples, bytes, st->nr_cpus, now_s() - t0, env.output, st->loss.lost,
			st->loss.throttle, stop_signal ? " (stopped by a signal)" : "");
		/* Only CPU-wide hardware events can be squeezed out by another PMU user. */
		if (sopts.kind != IBSP_SAMPLER_SOFT && env.target != IBSP_TARGET_PID &&
		    ratio < 0.99)
			fprintf(
			    stderr,
			    "ibs-promote record: the events ran %.0f%% of the time: another user "
			    "of the PMU (e.g. perf record -e ibs_op//) shares it\n",
			    ratio * 100);
	}
out:
	if (wl.pid > 0) {
		/* still running: the recording is over (error, signal or --duration) */
		kill(wl.pid, SIGTERM);
		waitpid(wl.pid, &wl_status, 0);
	}
	ibsp_perf_writer__close(w);
	ibsp_capture__delete(cap);
	ibsp_recording_info__exit(&info);
	ibsp_topology__delete(topo);
	ibsp_sampler__free_events(events, leader, nr);
	return rc;
}
