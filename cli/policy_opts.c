// SPDX-License-Identifier: MIT
/* Policy options shared by `replay` and `run`: parsing and checking only. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ibsp/policies.h"
#include "policy_opts.h"

#define DEFAULT_RATE_MIB_S 256

const char cli_policy_help[] =
    "Policy options:\n"
    "  --policy P           locality (default), last-accessor, fixed-node:N or none\n"
    "  --interval MS        policy interval in milliseconds (default 1000)\n"
    "  --rate MIB_S         migration budget in MiB/s, 0 = unlimited (default 256)\n"
    "  --min-share PCT      share of the heat that makes a node the majority (default 60)\n"
    "  --min-heat N         threshold floor: decayed samples a page needs (default 2);\n"
    "                       while no top-tier node is short of room, a lower-tier\n"
    "                       page with N samples since it came there is enough\n"
    "  --fallback-heat N    samples before a page with no majority goes to the nearest\n"
    "                       node (default 4 x min-heat)\n"
    "  --pingpong N         intervals before a moved page may move again (default 10)\n"
    "  --watermark PCT      free memory a destination keeps, % of its total (default 2)\n"
    "  --max-pages N        heat-table bound in pages (default 786432: 36 MiB)\n"
    "  --decay-shift N      heat -= heat >> N once per interval (default 2: x 3/4)\n"
    "  --top-tier NODES     promotion targets (default: the nodes with CPUs)\n"
    "  --no-follow          leave top-tier pages where they are, even when their\n"
    "                       accessors are on another top-tier node\n"
    "  --no-demote          never demote cold pages to make room on a full node\n"
    "  --demote-idle N      intervals without a sample before a page counts as cold\n"
    "                       (default 4)\n";

void cli_policy__init(struct cli_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->eng.sz = sizeof(p->eng);
	p->eng.policy = (struct ibsp_policy){ .ops = &ibsp_policy_locality, .arg = -1 };
	p->eng.rate_bytes_per_s = (uint64_t)DEFAULT_RATE_MIB_S << 20;
}

static int pct_arg(const char *cmd, const char *opt, const char *arg, double lo, double hi,
		   uint32_t *bp)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!*arg || *end || errno || !(v >= lo && v <= hi)) {
		fprintf(stderr, "ibs-promote %s: --%s: '%s' is not a percentage in [%g, %g]\n", cmd,
			opt, arg, lo, hi);
		return -1;
	}
	*bp = (uint32_t)lround(v * 100);
	return 0;
}

int cli_policy__opt(struct cli_policy *p, int c, const char *arg, const char *cmd)
{
	uint64_t v;

	switch (c) {
	case POPT_POLICY:
		if (ibsp_policy__find(arg, &p->eng.policy)) {
			fprintf(stderr,
				"ibs-promote %s: --policy: '%s' is not locality, last-accessor, "
				"fixed-node:N or none\n",
				cmd, arg);
			return -1;
		}
		return 1;
	case POPT_INTERVAL:
		if (cli_uint_arg(cmd, "interval", arg, 1, 3600000, &v))
			return -1;
		p->eng.interval_ms = (uint32_t)v;
		return 1;
	case POPT_RATE:
		if (cli_uint_arg(cmd, "rate", arg, 0, 1 << 24, &v))
			return -1;
		p->eng.rate_bytes_per_s = v << 20;
		return 1;
	case POPT_MIN_SHARE:
		/* 50% would let two nodes both be "the" majority. */
		if (pct_arg(cmd, "min-share", arg, 50.01, 100, &p->eng.min_share_bp))
			return -1;
		return 1;
	case POPT_MIN_HEAT:
		if (cli_uint_arg(cmd, "min-heat", arg, 1, 1 << 20, &v))
			return -1;
		p->eng.min_heat = (uint32_t)v;
		p->min_heat_set = true;
		return 1;
	case POPT_PINGPONG:
		if (cli_uint_arg(cmd, "pingpong", arg, 1, 1 << 20, &v))
			return -1;
		p->eng.pingpong_intervals = (uint32_t)v;
		return 1;
	case POPT_WATERMARK:
		if (pct_arg(cmd, "watermark", arg, 0.01, 99, &p->eng.watermark_bp))
			return -1;
		return 1;
	case POPT_MAX_PAGES:
		if (cli_uint_arg(cmd, "max-pages", arg, 16, 1ULL << 31, &v))
			return -1;
		p->eng.max_pages = v;
		return 1;
	case POPT_FALLBACK_HEAT:
		if (cli_uint_arg(cmd, "fallback-heat", arg, 1, 255, &v))
			return -1;
		p->eng.fallback_heat = (uint32_t)v;
		return 1;
	case POPT_DECAY_SHIFT:
		if (cli_uint_arg(cmd, "decay-shift", arg, 1, 16, &v))
			return -1;
		p->eng.decay_shift = (uint32_t)v;
		p->decay_set = true;
		return 1;
	case POPT_TOP_TIER:
		p->top_tier = arg;
		return 1;
	case POPT_NO_FOLLOW:
		p->eng.no_follow = true;
		return 1;
	case POPT_NO_DEMOTE:
		p->eng.no_demote = true;
		return 1;
	case POPT_DEMOTE_IDLE:
		if (cli_uint_arg(cmd, "demote-idle", arg, 1, 255, &v))
			return -1;
		p->eng.demote_idle_intervals = (uint32_t)v;
		return 1;
	default:
		return 0;
	}
}

void cli_policy__for_soft_sampler(struct cli_policy *p)
{
	/* One fault per page: one sample is all the evidence there will be. */
	if (!p->min_heat_set)
		p->eng.min_heat = 1;
}

void cli_policy__for_hint_sampler(struct cli_policy *p)
{
	cli_policy__for_soft_sampler(p);
	/* heat -= heat/16 per interval: at one sample per scan and interval, ~16 in steady
	 * state, enough for a move within the top tier (z >= 3: 9 samples, docs/policy.md) */
	if (!p->decay_set)
		p->eng.decay_shift = 4;
}

void cli_policy__name(const struct cli_policy *p, char *buf, size_t len)
{
	ibsp_policy__name(&p->eng.policy, buf, len);
}
