// SPDX-License-Identifier: MIT
/*
 * What the running host is: uname, CPUID, CPU counts, memory, PMU mappings
 * (a recording carries them as perf.data feature sections).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ibsp/host.h"
#include "ibsp/topology.h"
#include "util.h"

void ibsp_host_desc__exit(struct ibsp_host_desc *desc)
{
	free(desc->hostname);
	free(desc->osrelease);
	free(desc->arch);
	free(desc->cpuid);
	free(desc->cpudesc);
	for (uint32_t i = 0; i < desc->nr_pmus; i++)
		free(desc->pmus[i].name);
	free(desc->pmus);
	memset(desc, 0, sizeof(*desc));
}

/* "Vendor,family,model,stepping" as perf's get_cpuid() writes it on x86, and the model name. */
static void read_cpuid(struct ibsp_host_desc *desc)
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
	    asprintf(&desc->cpuid, "%s,%d,%d,%d", vendor, fam, model, step) < 0)
		desc->cpuid = NULL;
	if (model_name[0])
		desc->cpudesc = strdup(model_name);
}

static int cpu_max_cb(int cpu, void *ctx)
{
	int *max = ctx;

	if (cpu > *max)
		*max = cpu;
	return 0;
}

static void read_pmus(struct ibsp_host_desc *desc)
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
		p = reallocarray(desc->pmus, desc->nr_pmus + 1, sizeof(*p));
		if (!p)
			break;
		desc->pmus = p;
		p[desc->nr_pmus].type = (uint32_t)strtoul(buf, NULL, 10);
		p[desc->nr_pmus].name = strdup(de->d_name);
		if (p[desc->nr_pmus].name)
			desc->nr_pmus++;
		if (!strcmp(de->d_name, "ibs_op")) {
			snprintf(path, sizeof(path), "%s/ibs_op/caps/zen4_ibs_extensions", dir);
			desc->ibs_zen4 =
			    ibsp_read_file_str(path, buf, sizeof(buf)) > 0 && atoi(buf);
		}
	}
	closedir(d);
}

static void read_cpu_counts(struct ibsp_host_desc *desc)
{
	char buf[4096];
	int max = -1;
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	if (ibsp_read_file_str("/sys/devices/system/cpu/present", buf, sizeof(buf)) > 0 &&
	    !ibsp_cpulist__parse(buf, cpu_max_cb, &max))
		desc->nr_cpus_avail = (uint32_t)(max + 1);
	desc->nr_cpus_online = online > 0 ? (uint32_t)online : 0;
	if (!desc->nr_cpus_avail)
		desc->nr_cpus_avail = desc->nr_cpus_online;
}

int ibsp_host_desc__read(struct ibsp_host_desc *desc)
{
	struct utsname u;
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	memset(desc, 0, sizeof(*desc));
	if (!uname(&u)) {
		desc->hostname = strdup(u.nodename);
		desc->osrelease = strdup(u.release);
		desc->arch = strdup(u.machine);
	}
	read_cpuid(desc);
	read_cpu_counts(desc);
	if (pages > 0 && psz > 0)
		desc->total_mem_kb = (uint64_t)pages * (uint64_t)psz / 1024;
	read_pmus(desc);
	if (!desc->hostname || !desc->osrelease || !desc->arch)
		return -ENOMEM;
	return 0;
}
