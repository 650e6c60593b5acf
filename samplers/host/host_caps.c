// SPDX-License-Identifier: MIT
/*
 * Host capabilities for sampling: CPU vendor and model, the IBS capability
 * word, VM detection, perf_event_paranoid, process capabilities, and the core
 * PMU model libpfm4 detects.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <perfmon/pfmlib.h>

#include "ibsp/host.h"
#include "util.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif

static void read_cpuid(struct ibsp_host_caps *c)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned int eax, ebx, ecx, edx, max_ext;

	if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx))
		return;
	memcpy(c->vendor, &ebx, 4);
	memcpy(c->vendor + 4, &edx, 4);
	memcpy(c->vendor + 8, &ecx, 4);
	c->vendor[12] = '\0';
	if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
		unsigned int fam = (eax >> 8) & 0xf, model = (eax >> 4) & 0xf;

		/* Extended family/model as the SDM/APM define them. */
		if (fam == 0xf)
			fam += (eax >> 20) & 0xff;
		if (fam >= 6)
			model |= ((eax >> 16) & 0xf) << 4;
		c->family = fam;
		c->model = model;
		c->stepping = eax & 0xf;
		c->hypervisor = (ecx >> 31) & 1;
	}
	/* IBS capabilities: CPUID Fn8000_001B EAX (AMD APM vol. 3), if the leaf exists. */
	max_ext = __get_cpuid_max(0x80000000, NULL);
	if (!strcmp(c->vendor, "AuthenticAMD") && max_ext >= 0x8000001b &&
	    __get_cpuid(0x8000001b, &eax, &ebx, &ecx, &edx))
		c->ibs_caps = eax;
#else
	(void)c;
#endif
}

static void read_caps(struct ibsp_host_caps *c)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return;
#define HAS(cap) (!!(data[(cap) / 32].effective & (1u << ((cap) % 32))))
	c->cap_sys_admin = HAS(CAP_SYS_ADMIN);
	c->cap_perfmon = HAS(CAP_PERFMON);
	c->cap_sys_ptrace = HAS(CAP_SYS_PTRACE);
	c->cap_sys_nice = HAS(CAP_SYS_NICE);
	c->cap_ipc_lock = HAS(CAP_IPC_LOCK);
#undef HAS
}

static void read_pfm(struct ibsp_host_caps *c)
{
	pfm_pmu_info_t info;

	if (pfm_initialize() != PFM_SUCCESS)
		return;
	for (int p = PFM_PMU_NONE + 1; p < PFM_PMU_MAX; p++) {
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (pfm_get_pmu_info((pfm_pmu_t)p, &info) != PFM_SUCCESS)
			continue;
		if (info.is_present && info.type == PFM_PMU_TYPE_CORE && info.name) {
			snprintf(c->pfm_pmu, sizeof(c->pfm_pmu), "%s", info.name);
			break;
		}
	}
}

void ibsp_host_caps__read_privs(struct ibsp_host_caps *c)
{
	char buf[32], *end;

	memset(c, 0, sizeof(*c));
	c->perf_event_paranoid = INT_MIN;
	if (ibsp_read_file_str("/proc/sys/kernel/perf_event_paranoid", buf, sizeof(buf)) > 0) {
		long v = strtol(buf, &end, 10);

		if (end != buf)
			c->perf_event_paranoid = (int)v;
	}
	read_caps(c);
}

int ibsp_host_caps__read(const char *root, struct ibsp_host_caps *c)
{
	char path[PATH_MAX], buf[32];

	ibsp_host_caps__read_privs(c);
	read_cpuid(c);
	snprintf(path, sizeof(path), "%s/bus/event_source/devices/cpu/type", root);
	c->core_pmu = ibsp_read_file_str(path, buf, sizeof(buf)) > 0;
	if (!c->core_pmu) {
		snprintf(path, sizeof(path), "%s/bus/event_source/devices/cpu_core/type", root);
		c->core_pmu = ibsp_read_file_str(path, buf, sizeof(buf)) > 0;
	}
	read_pfm(c);
	return 0;
}

/*
 * CPU-wide events and physical addresses need perf_allow_cpu() and
 * perf_allow_kernel(): paranoid <= 0, or CAP_PERFMON / CAP_SYS_ADMIN. With
 * Debian's paranoid level 3 every perf_event_open needs CAP_SYS_ADMIN.
 */
bool ibsp_host_caps__may_sample_cpus(const struct ibsp_host_caps *c)
{
	if (c->cap_sys_admin)
		return true;
	if (c->perf_event_paranoid > 2)
		return false;
	return c->cap_perfmon || c->perf_event_paranoid <= 0;
}

/* perf_mmap(): past the budget, EPERM unless capable(CAP_IPC_LOCK) or !perf_is_paranoid(). */
bool ibsp_host_caps__may_lock_rings(const struct ibsp_host_caps *c)
{
	return c->cap_ipc_lock || (c->perf_event_paranoid != INT_MIN && c->perf_event_paranoid < 0);
}
