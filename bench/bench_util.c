// SPDX-License-Identifier: MIT
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "ibsp/perf_file.h"

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int read_all(const char *path)
{
	static struct ibsp_sample buf[4096];
	struct ibsp_perf_reader *r;
	uint64_t sum = 0;
	int ret;

	if (ibsp_perf_reader__open(path, NULL, &r))
		return 1;
	/* Sum something per sample, so the decode cannot be optimised away. */
	while ((ret = ibsp_perf_reader__read(r, buf, 4096)) > 0)
		for (int i = 0; i < ret; i++)
			sum += buf[i].vaddr + buf[i].paddr;
	ibsp_perf_reader__close(r);
	return ret < 0 || !sum;
}

struct result measure(int (*fn)(const char *), const char *arg, const char *cmd)
{
	struct result res = { 0 };
	struct rusage ru;
	double t = now_s();
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		if (fn)
			_exit(fn(arg));
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	wait4(pid, &st, 0, &ru);
	res.wall_s = now_s() - t;
	res.maxrss_kb = ru.ru_maxrss;
	res.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return res;
}
