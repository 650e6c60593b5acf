/* SPDX-License-Identifier: MIT */
/*
 * The running host: what it allows for sampling (CPU, capabilities,
 * perf_event_paranoid, the PMUs present) and what it is (uname, CPUID, CPU
 * counts, memory, PMU mappings), read from /proc, /sys and CPUID.
 */
#ifndef IBSP_HOST_H
#define IBSP_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** struct ibsp_host_caps - what the running host and process allow */
struct ibsp_host_caps {
	int perf_event_paranoid; /* /proc/sys/kernel/perf_event_paranoid; INT_MIN if unreadable */
	bool cap_sys_admin;	 /* effective capabilities of this process */
	bool cap_perfmon;
	bool cap_sys_ptrace;
	bool cap_sys_nice;
	bool cap_ipc_lock;
	bool hypervisor; /* CPUID.1:ECX[31]: running in a VM */
	bool core_pmu;	 /* /sys/bus/event_source/devices/cpu (or cpu_core) exists */
	char vendor[16]; /* CPUID vendor string */
	unsigned int family, model, stepping;
	uint32_t ibs_caps; /* CPUID Fn8000_001B EAX on AMD; 0 elsewhere */
	char pfm_pmu[32];  /* the libpfm4 core PMU model detected ("icx", "spr", ...), or "" */
};

/** ibsp_host_caps__read() - fill @caps for the running host; @sysfs_root is "/sys" normally */
int ibsp_host_caps__read(const char *sysfs_root, struct ibsp_host_caps *caps);

/** ibsp_host_caps__may_sample_cpus() - CPU-wide events with physical addresses are allowed */
bool ibsp_host_caps__may_sample_cpus(const struct ibsp_host_caps *caps);

/**
 * ibsp_host_caps__read_privs() - only @caps's perf_event_paranoid and
 * capabilities (cheap: no CPUID, no libpfm4); the rest is zeroed
 */
void ibsp_host_caps__read_privs(struct ibsp_host_caps *caps);

/**
 * ibsp_host_caps__may_lock_rings() - may perf ring buffers lock memory past
 * the kernel's perf_event_mlock_kb budget (516 KiB a CPU by default) and
 * RLIMIT_MEMLOCK: CAP_IPC_LOCK, or perf_event_paranoid -1 (perf_mmap())
 */
bool ibsp_host_caps__may_lock_rings(const struct ibsp_host_caps *caps);

/**
 * ibsp_soft_dirty__probe() - does this kernel track soft-dirty PTEs?
 * @why: receives why not ("kernel without CONFIG_MEM_SOFT_DIRTY ...")
 *
 * Tests it on a page of its own: written, its soft-dirty bit (pagemap bit
 * 55) set; after "4" in /proc/self/clear_refs, clear; written again, set. A
 * kernel without CONFIG_MEM_SOFT_DIRTY accepts the clear_refs write and
 * never sets the bit. Side effect: this process's own PTEs are
 * write-protected once (each page's next write takes a minor fault).
 *
 * Return: 1 it does; 0 it does not (@why says why); a negative errno when
 * the test itself failed (@why says how).
 */
int ibsp_soft_dirty__probe(char *why, size_t len);

/** struct ibsp_pmu_mapping - a PMU's dynamic perf type and its sysfs name */
struct ibsp_pmu_mapping {
	uint32_t type;
	char *name;
};

/**
 * struct ibsp_host_desc - what the running host is
 *
 * Strings are malloc'd, NULL when unknown.
 */
struct ibsp_host_desc {
	char *hostname;		/* uname nodename */
	char *osrelease;	/* uname release */
	char *arch;		/* uname machine */
	char *cpuid;		/* "Vendor,family,model,stepping" as perf writes it on x86 */
	char *cpudesc;		/* the CPU model name */
	uint32_t nr_cpus_avail; /* highest present CPU + 1 */
	uint32_t nr_cpus_online;
	uint64_t total_mem_kb;
	uint32_t nr_pmus;
	struct ibsp_pmu_mapping *pmus; /* /sys/bus/event_source/devices/<name>/type */
	bool ibs_zen4;		       /* ibs_op caps/zen4_ibs_extensions is 1 */
};

/**
 * ibsp_host_desc__read() - fill @desc for the running host
 *
 * Return: 0, or -ENOMEM when the uname strings could not be had (@desc is
 * filled as far as it could be; empty it with ibsp_host_desc__exit() either way).
 */
int ibsp_host_desc__read(struct ibsp_host_desc *desc);

/** ibsp_host_desc__exit() - free what @desc points to (not @desc itself) */
void ibsp_host_desc__exit(struct ibsp_host_desc *desc);

#endif /* IBSP_HOST_H */
