// SPDX-License-Identifier: MIT
/* Which events of a recording a replay takes (replay_events.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_print.h"
#include "replay_events.h"

/* The recording's event names, for a message: "a, b, c" (truncated to fit). */
static void event_list(const struct ibsp_perf_reader *r, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < ibsp_perf_reader__nr_events(r) && at < len; i++) {
		const char *name = ibsp_perf_reader__event(r, i)->name;
		int w = snprintf(buf + at, len - at, "%s'%s'", i ? ", " : "", name ? name : "?");

		at += w > 0 ? (size_t)w : 0;
	}
}

/* Say so when two events sample the same page faults: each fault then counts once per event. */
static void warn_fault_events(const char *path, const struct ibsp_perf_reader *r)
{
	const char *fault[2] = { NULL, NULL };
	uint32_t nr_faults = 0;

	for (uint32_t i = 0; i < ibsp_perf_reader__nr_events(r) && nr_faults < 2; i++) {
		enum ibsp_sampler_kind k = ibsp_perf_reader__event(r, i)->kind;

		if (k == IBSP_SAMPLER_SOFT || k == IBSP_SAMPLER_HINT)
			fault[nr_faults++] = ibsp_perf_reader__event(r, i)->name;
	}
	if (nr_faults == 2)
		pr_warn("%s: events '%s' and '%s' both sample page faults, so each fault counts "
			"once per event (replay --event NAME takes one)\n",
			path, fault[0] ? fault[0] : "?", fault[1] ? fault[1] : "?");
}

int ibsp_replay__pick_events(const char *path, const struct ibsp_perf_reader *r, const char *names,
			     bool **keep, uint32_t *nr_keep)
{
	uint32_t nr = ibsp_perf_reader__nr_events(r);
	const char *p = names;
	char list[512];

	if (!p) {
		warn_fault_events(path, r);
		return 0;
	}
	*keep = calloc(nr ? nr : 1, sizeof(**keep));
	if (!*keep)
		return -ENOMEM;
	*nr_keep = nr;
	while (*p) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (uint32_t i = 0; i < nr; i++) {
			const char *name = ibsp_perf_reader__event(r, i)->name;

			if (name && strlen(name) == len && !strncmp(name, p, len))
				found = (*keep)[i] = true;
		}
		if (!found) {
			event_list(r, list, sizeof(list));
			pr_err("%s: event '%.*s': the recording has no such event (its events: "
			       "%s)\n",
			       path, (int)len, p, list);
			return -ENOENT;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

size_t ibsp_replay__keep_events(const bool *keep, uint32_t nr_keep, struct ibsp_sample *buf,
				size_t n)
{
	size_t k = 0;

	if (!keep)
		return n;
	for (size_t i = 0; i < n; i++) {
		if (buf[i].event_idx < nr_keep && keep[buf[i].event_idx])
			buf[k++] = buf[i];
	}
	return k;
}
