/* SPDX-License-Identifier: MIT */
/*
 * A perf PMU as sysfs describes it: /sys/bus/event_source/devices/NAME/
 * type, format/<field> ("config1:0-11") and caps/<name>.
 * Source: Documentation/ABI/testing/sysfs-bus-event_source-devices-format.
 */
#ifndef IBSP_PMU_H
#define IBSP_PMU_H

#include <stdint.h>
#include <linux/perf_event.h>

struct ibsp_pmu_format {
	char name[32];
	uint8_t config; /* 0 = config, 1 = config1, 2 = config2 */
	uint8_t lo, hi; /* bit range, inclusive */
};

struct ibsp_pmu_cap {
	char name[48];
	char value[32];
};

struct ibsp_pmu {
	char name[64];
	uint32_t type;
	uint32_t nr_formats;
	struct ibsp_pmu_format *formats;
	uint32_t nr_caps;
	struct ibsp_pmu_cap *caps;
};

/*
 * Load PMU @name from @sysfs_root ("/sys"). Return 0, -ENOENT when the PMU
 * is absent, or another -errno (logged with the path).
 */
int ibsp_pmu__from_sysfs(const char *sysfs_root, const char *name, struct ibsp_pmu **out);
void ibsp_pmu__delete(struct ibsp_pmu *pmu);

/* The format field @name, or NULL. */
const struct ibsp_pmu_format *ibsp_pmu__format(const struct ibsp_pmu *pmu, const char *name);

/*
 * Put @value into format field @name of @attr (config/config1/config2).
 * Return 0, -ENOENT if the PMU has no such field, -ERANGE if @value does not fit.
 */
int ibsp_pmu__set(const struct ibsp_pmu *pmu, struct perf_event_attr *attr, const char *name,
		  uint64_t value);

/* The value of caps/@name, or NULL. */
const char *ibsp_pmu__cap(const struct ibsp_pmu *pmu, const char *name);

/* Parse one format description ("config:0-15", "config1:12"). Return 0 or -EINVAL. */
int ibsp_pmu_format__parse(const char *text, struct ibsp_pmu_format *f);

#endif
