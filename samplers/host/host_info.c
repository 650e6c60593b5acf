// SPDX-License-Identifier: MIT
/*
 * Facts about the running host that a recording carries as perf.data
 * feature sections: uname, CPUID, CPU counts, memory, PMU mappings.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ibsp/perf_file.h"
#include "util.h"

const char *ibsp_recording_info__pmu_name(const struct ibsp_recording_info *info, uint32_t type)
{
	for (uint32_t i = 0; i < info->nr_pmus; i++)
		if (info->pmus[i].type == type)
			return info->pmus[i].name;
	return NULL;
}

void ibsp_recording_info__free(struct ibsp_recording_info *info)
{
	free(info->hostname);
	free(info->osrelease);
	free(info->arch);
	free(info->cpuid);
	free(info->cpudesc);
	for (uint32_t i = 0; i < info->nr_cmdline; i++)
		free(info->cmdline[i]);
	free(info->cmdline);
	for (uint32_t i = 0; i < info->nr_pmus; i++)
		free(info->pmus[i].name);
	free(info->pmus);
	ibsp_topology__delete(info->topo);
	memset(info, 0, sizeof(*info));
}

/* "Vendor,family,model,stepping" as perf's get_cpuid() writes it on x86, and the model name. */
static void read_cpuid(struct ibsp_recording_info *info)
{
	char line[512], vendor[64] = "", model_name[256] = "";
	int fam = -1, model = -1, step = -1;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '\n')
			break; /* the first CPU is enough */
		sscanf(line, "vendor_id : %63s", vendor);
		sscanf(line, "cpu family : %d", &fam);
		sscanf(line, "model : %d", &model);
		sscanf(line, "stepping : %d", &step);
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');

			if (c) {
				snprintf(model_name, sizeof(model_name), "%s", c + 2);
				model_name[strcspn(model_name, "\n")] = '\0';
			}
		}
	}
	fclose(f);
	if (vendor[0] && fam >= 0 && model >= 0 && step >= 0 &&
	    asprintf(&info->cpuid, "%s,%d,%d,%d", vendor, fam, model, step) < 0)
		info->cpuid = NULL;
	if (model_name[0])
		info->cpudesc = strdup(model_name);
}

static int cpu_max_cb(int cpu, void *ctx)
{
	int *max = ctx;

	if (cpu > *max)
		*max = cpu;
	return 0;
}

static void read_pmus(struct ibsp_recording_info *info)
{
	const char *dir = "/sys/bus/event_source/devices";
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX], buf[32];
		struct ibsp_pmu_mapping *p;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/type", dir, de->d_name);
		if (ibsp_read_file_str(path, buf, sizeof(buf)) <= 0)
			continue;
		p = reallocarray(info->pmus, info->nr_pmus + 1, sizeof(*p));
		if (!p)
			break;
		info->pmus = p;
		p[info->nr_pmus].type = (uint32_t)strtoul(buf, NULL, 10);
		p[info->nr_pmus].name = strdup(de->d_name);
		if (p[info->nr_pmus].name)
			info->nr_pmus++;
		if (!strcmp(de->d_name, "ibs_op")) {
			snprintf(path, sizeof(path), "%s/ibs_op/caps/zen4_ibs_extensions", dir);
			info->ibs_zen4 =
			    ibsp_read_file_str(path, buf, sizeof(buf)) > 0 && atoi(buf);
		}
	}
	closedir(d);
}

int ibsp_recording_info__from_host(struct ibsp_recording_info *info, struct ibsp_topology *topo,
				   int argc, char *const argv[])
{
	struct utsname u;
	char buf[4096];
	int max = -1;
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	memset(info, 0, sizeof(*info));
	info->topo = topo;
	if (!uname(&u)) {
		info->hostname = strdup(u.nodename);
		info->osrelease = strdup(u.release);
		info->arch = strdup(u.machine);
	}
	read_cpuid(info);
	if (ibsp_read_file_str("/sys/devices/system/cpu/present", buf, sizeof(buf)) > 0 &&
	    !ibsp_cpulist__parse(buf, cpu_max_cb, &max))
		info->nr_cpus_avail = (uint32_t)(max + 1);
	info->nr_cpus_online = online > 0 ? (uint32_t)online : 0;
	if (!info->nr_cpus_avail)
		info->nr_cpus_avail = info->nr_cpus_online;
	{
		long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

		if (pages > 0 && psz > 0)
			info->total_mem_kb = (uint64_t)pages * (uint64_t)psz / 1024;
	}
	if (argc > 0) {
		info->cmdline = calloc((size_t)argc, sizeof(char *));
		for (int i = 0; info->cmdline && i < argc; i++) {
			info->cmdline[i] = strdup(argv[i]);
			if (info->cmdline[i])
				info->nr_cmdline = (uint32_t)i + 1;
			else
				break;
		}
	}
	read_pmus(info);
	if (!info->hostname || !info->osrelease || !info->arch)
		return -ENOMEM;
	return 0;
}
