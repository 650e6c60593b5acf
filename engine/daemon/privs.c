// SPDX-License-Identifier: MIT
/*
 * Least privilege for the daemon (daemon_internal.h). Before the setup, one
 * line per capability the run lacks, naming the feature it costs; output
 * paths that are not files are refused, naming what they are. After the
 * setup (events open, files open), and before the migration worker exists
 * (capabilities are per thread), every capability the run no longer needs
 * is dropped with libcap-ng: what stays is CAP_SYS_PTRACE (move_pages and
 * the node queries on other users' processes, the hint sampler's
 * clear_refs), CAP_SYS_NICE (MPOL_MF_MOVE_ALL) when pages move,
 * CAP_DAC_OVERRIDE where files are opened later (the telemetry file on
 * SIGHUP, the metrics textfile, clear_refs of a cgroup's new processes) and
 * CAP_NET_BIND_SERVICE for a metrics port below 1024 (bound after the drop).
 */
#include <cap-ng.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_internal.h"
#include "log_print.h"

/* What the mode bits of @st say the file is, for a message. */
static const char *file_kind(const struct stat *st)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFDIR:
		return "a directory";
	case S_IFBLK:
		return "a block device";
	case S_IFCHR:
		return "a character device";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	default:
		return "not a regular file";
	}
}

/* A directory, a block device or a socket is no place for a stream of records or lines. */
static bool unfit(const struct stat *st)
{
	return S_ISDIR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISSOCK(st->st_mode);
}

/*
 * The recording and the telemetry go to a regular file, or stream to a FIFO
 * or a character device (pipe mode, a terminal, /dev/null); anything else
 * that exists (a disk!) is refused, naming what it is.
 */
int ibsp_daemon_privs__check_paths(const struct daemon *d)
{
	const char *paths[2] = { d->o.record_path, d->o.json_path };
	struct stat st;

	for (int i = 0; i < 2; i++) {
		if (paths[i] && strcmp(paths[i], "-") && !stat(paths[i], &st) && unfit(&st)) {
			pr_err("%s: %s: %s goes to a regular file, a FIFO or a character device\n",
			       paths[i], file_kind(&st), i ? "telemetry" : "a recording");
			return -EINVAL;
		}
	}
	return 0;
}

static bool cpu_wide(const struct daemon *d)
{
	return d->o.capture.target != IBSP_TARGET_PID;
}

void ibsp_daemon_privs__report(const struct daemon *d)
{
	const struct ibsp_host_caps *c = &d->caps;
	bool moves = !d->o.record_only && !d->o.dry_run;

	if (cpu_wide(d) && !ibsp_host_caps__may_sample_cpus(c))
		pr_warn("no CAP_PERFMON (nor CAP_SYS_ADMIN), perf_event_paranoid=%d: sampling "
			"every CPU (-a, --cgroup) is refused\n",
			c->perf_event_paranoid);
	if (!cpu_wide(d) && c->perf_event_paranoid > 2 && !c->cap_sys_admin)
		pr_warn("no CAP_SYS_ADMIN, perf_event_paranoid=%d: every perf event is refused\n",
			c->perf_event_paranoid);
	if (!c->cap_sys_ptrace && !d->o.record_only)
		pr_warn(
		    "no CAP_SYS_PTRACE: pages of other users' processes can be neither "
		    "located (move_pages, /proc/PID/pagemap) nor moved; they fail with eperm\n");
	if (!c->cap_sys_ptrace && d->o.sampler.kind == IBSP_SAMPLER_HINT)
		pr_warn("no CAP_SYS_PTRACE: the hint sampler cannot write /proc/PID/clear_refs "
			"of other users' processes\n");
	/* Pages mapped by several processes move only with MPOL_MF_MOVE_ALL. */
	if (!c->cap_sys_nice && moves)
		pr_warn("no CAP_SYS_NICE: pages shared by several processes cannot move "
			"(MPOL_MF_MOVE_ALL); they fail with eacces\n");
}

int ibsp_daemon_privs__drop(const struct daemon *d)
{
	bool moves = !d->o.record_only && !d->o.dry_run;
	bool hint = d->o.sampler.kind == IBSP_SAMPLER_HINT;
	bool later_opens = (d->o.json_path && strcmp(d->o.json_path, "-")) ||
			   d->o.metrics_textfile ||
			   (hint && d->o.capture.target == IBSP_TARGET_CGROUP);
	const char *port = d->o.metrics_listen ? strrchr(d->o.metrics_listen, ':') : NULL;
	const struct {
		unsigned int cap;
		bool need;
	} stay[] = {
		{ CAP_SYS_PTRACE, !d->o.record_only || hint },
		{ CAP_SYS_NICE, moves },
		{ CAP_DAC_OVERRIDE, later_opens },
		/* the metrics server binds its port after the drop */
		{ CAP_NET_BIND_SERVICE,
		  d->o.metrics_listen && atoi(port ? port + 1 : d->o.metrics_listen) < 1024 },
	};
	bool held[4];

	if (capng_get_caps_process()) {
		pr_warn("cannot read this process's capabilities: none dropped\n");
		return 0;
	}
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
		return 0;
	for (size_t i = 0; i < 4; i++)
		held[i] = stay[i].need && capng_have_capability(CAPNG_EFFECTIVE, stay[i].cap);
	capng_clear(CAPNG_SELECT_CAPS);
	for (size_t i = 0; i < 4; i++)
		if (held[i])
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, stay[i].cap);
	if (capng_apply(CAPNG_SELECT_CAPS)) {
		pr_warn("cannot drop the capabilities the run no longer needs\n");
		return 0;
	}
	pr_debug("capabilities after the setup:%s%s%s%s\n", held[0] ? " CAP_SYS_PTRACE" : "",
		 held[1] ? " CAP_SYS_NICE" : "", held[2] ? " CAP_DAC_OVERRIDE" : "",
		 held[3] ? " CAP_NET_BIND_SERVICE" : "");
	return 0;
}
