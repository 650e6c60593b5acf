// SPDX-License-Identifier: MIT
/*
 * What a recording says about its host: built from the host layer's
 * description of the running host (plus the command line and the topology),
 * or filled by the reader from a file's feature sections.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ibsp/host.h"
#include "ibsp/perf_file.h"

const char *ibsp_recording_info__pmu_name(const struct ibsp_recording_info *info, uint32_t type)
{
	for (uint32_t i = 0; i < info->nr_pmus; i++)
		if (info->pmus[i].type == type)
			return info->pmus[i].name;
	return NULL;
}

void ibsp_recording_info__exit(struct ibsp_recording_info *info)
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

/* Move what @desc points to into @info; @desc is left empty. */
static void take_host_desc(struct ibsp_recording_info *info, struct ibsp_host_desc *desc)
{
	info->hostname = desc->hostname;
	info->osrelease = desc->osrelease;
	info->arch = desc->arch;
	info->cpuid = desc->cpuid;
	info->cpudesc = desc->cpudesc;
	info->nr_cpus_avail = desc->nr_cpus_avail;
	info->nr_cpus_online = desc->nr_cpus_online;
	info->total_mem_kb = desc->total_mem_kb;
	info->nr_pmus = desc->nr_pmus;
	info->pmus = desc->pmus;
	info->ibs_zen4 = desc->ibs_zen4;
	memset(desc, 0, sizeof(*desc));
}

/* Copy @argv; on allocation failure keep the arguments copied so far. */
static void copy_cmdline(struct ibsp_recording_info *info, int argc, char *const argv[])
{
	if (argc <= 0)
		return;
	info->cmdline = calloc((size_t)argc, sizeof(char *));
	for (int i = 0; info->cmdline && i < argc; i++) {
		info->cmdline[i] = strdup(argv[i]);
		if (info->cmdline[i])
			info->nr_cmdline = (uint32_t)i + 1;
		else
			break;
	}
}

int ibsp_recording_info__from_host(struct ibsp_recording_info *info, struct ibsp_topology *topo,
				   int argc, char *const argv[])
{
	struct ibsp_host_desc desc;
	int ret = ibsp_host_desc__read(&desc);

	memset(info, 0, sizeof(*info));
	info->topo = topo;
	take_host_desc(info, &desc);
	copy_cmdline(info, argc, argv);
	return ret;
}
