// SPDX-License-Identifier: MIT
/* PMU discovery from sysfs: type, format fields and caps. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_print.h"
#include "pmu.h"
#include "util.h"

int ibsp_pmu_format__parse(const char *text, struct ibsp_pmu_format *f)
{
	unsigned int lo, hi;
	char which[16];
	int n;

	/* Only single ranges exist for the PMUs we use; "config:0-7,32-35" is refused. */
	if (sscanf(text, "%15[a-z0-9]:%u%n", which, &lo, &n) != 2)
		return -EINVAL;
	hi = lo;
	if (text[n] == '-') {
		int m;

		if (sscanf(text + n + 1, "%u%n", &hi, &m) != 1)
			return -EINVAL;
		n += 1 + m;
	}
	if (text[n] && text[n] != '\n')
		return -EINVAL;
	if (hi < lo || hi > 63)
		return -EINVAL;
	if (!strcmp(which, "config"))
		f->config = 0;
	else if (!strcmp(which, "config1"))
		f->config = 1;
	else if (!strcmp(which, "config2"))
		f->config = 2;
	else
		return -EINVAL;
	f->lo = (uint8_t)lo;
	f->hi = (uint8_t)hi;
	return 0;
}

void ibsp_pmu__delete(struct ibsp_pmu *pmu)
{
	if (!pmu)
		return;
	free(pmu->formats);
	free(pmu->caps);
	free(pmu);
}

/* Call @fn for each regular entry of @dir; a missing directory is not an error. */
static int for_each_file(const char *dir, int (*fn)(struct ibsp_pmu *, const char *, const char *),
			 struct ibsp_pmu *pmu)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (de = readdir(d))) {
		char path[PATH_MAX], buf[128];

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		if (ibsp_read_file_str(path, buf, sizeof(buf)) < 0)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		ret = fn(pmu, de->d_name, buf);
		if (ret == -EINVAL)
			pr_err("%s: unexpected content '%s'\n", path, buf);
	}
	closedir(d);
	return ret;
}

static int add_format(struct ibsp_pmu *pmu, const char *name, const char *text)
{
	struct ibsp_pmu_format f = { 0 }, *n;

	if (strlen(name) >= sizeof(f.name))
		return 0; /* longer than any format ibs-promote looks up */
	if (ibsp_pmu_format__parse(text, &f))
		return -EINVAL;
	memcpy(f.name, name, strlen(name) + 1);
	n = reallocarray(pmu->formats, pmu->nr_formats + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	pmu->formats = n;
	pmu->formats[pmu->nr_formats++] = f;
	return 0;
}

static int add_cap(struct ibsp_pmu *pmu, const char *name, const char *text)
{
	struct ibsp_pmu_cap *n;

	if (strlen(name) >= sizeof(n->name) || strlen(text) >= sizeof(n->value))
		return 0; /* longer than any capability ibs-promote looks up, or its value */
	n = reallocarray(pmu->caps, pmu->nr_caps + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	pmu->caps = n;
	memcpy(n[pmu->nr_caps].name, name, strlen(name) + 1);
	memcpy(n[pmu->nr_caps].value, text, strlen(text) + 1);
	pmu->nr_caps++;
	return 0;
}

int ibsp_pmu__from_sysfs(const char *root, const char *name, struct ibsp_pmu **out)
{
	char dir[PATH_MAX - 64], path[PATH_MAX], buf[64];
	struct ibsp_pmu *pmu;
	char *end;
	int ret;

	snprintf(dir, sizeof(dir), "%s/bus/event_source/devices/%s", root, name);
	snprintf(path, sizeof(path), "%s/type", dir);
	ret = ibsp_read_file_str(path, buf, sizeof(buf));
	if (ret < 0) {
		if (ret != -ENOENT)
			pr_err("%s: cannot read: %s\n", path, strerror(-ret));
		return ret;
	}
	pmu = calloc(1, sizeof(*pmu));
	if (!pmu)
		return -ENOMEM;
	snprintf(pmu->name, sizeof(pmu->name), "%s", name);
	pmu->type = (uint32_t)strtoul(buf, &end, 10);
	if (end == buf || (*end && *end != '\n')) {
		pr_err("%s: not a PMU type number: '%s'\n", path, buf);
		ibsp_pmu__delete(pmu);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/format", dir);
	ret = for_each_file(path, add_format, pmu);
	if (!ret) {
		snprintf(path, sizeof(path), "%s/caps", dir);
		ret = for_each_file(path, add_cap, pmu);
	}
	if (ret) {
		ibsp_pmu__delete(pmu);
		return ret;
	}
	*out = pmu;
	return 0;
}

const struct ibsp_pmu_format *ibsp_pmu__format(const struct ibsp_pmu *pmu, const char *name)
{
	for (uint32_t i = 0; i < pmu->nr_formats; i++)
		if (!strcmp(pmu->formats[i].name, name))
			return &pmu->formats[i];
	return NULL;
}

const char *ibsp_pmu__cap(const struct ibsp_pmu *pmu, const char *name)
{
	for (uint32_t i = 0; i < pmu->nr_caps; i++)
		if (!strcmp(pmu->caps[i].name, name))
			return pmu->caps[i].value;
	return NULL;
}

int ibsp_pmu__set(const struct ibsp_pmu *pmu, struct perf_event_attr *attr, const char *name,
		  uint64_t value)
{
	const struct ibsp_pmu_format *f = ibsp_pmu__format(pmu, name);
	unsigned int width;
	uint64_t mask, *cfg;

	if (!f)
		return -ENOENT;
	width = f->hi - f->lo + 1u;
	mask = width == 64 ? ~0ULL : (1ULL << width) - 1;
	if (value & ~mask)
		return -ERANGE;
	cfg = f->config == 0   ? (uint64_t *)&attr->config
	      : f->config == 1 ? (uint64_t *)&attr->config1
			       : (uint64_t *)&attr->config2;
	*cfg = (*cfg & ~(mask << f->lo)) | (value << f->lo);
	return 0;
}
