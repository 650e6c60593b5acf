// SPDX-License-Identifier: MIT
/*
 * PERF_RECORD_SAMPLE parser. Field order and sizes follow Linux 6.1
 * kernel/events/core.c perf_output_sample(), which is authoritative where the
 * uapi comment differs (it puts AUX last and CGROUP after PHYS_ADDR).
 */
#include <errno.h>
#include <string.h>

#include "ibsp/perf_file.h"
#include "perf_sample.h"

struct cursor {
	const uint8_t *base;
	size_t pos;
	size_t end;
	struct ibsp_parse_err *err;
};

static int fail(struct cursor *c, const char *field, const char *reason)
{
	c->err->field = field;
	c->err->offset = c->pos;
	c->err->reason = reason;
	return -EINVAL;
}

static int take(struct cursor *c, const char *field, size_t n, const uint8_t **p)
{
	if (n > c->end - c->pos)
		return fail(c, field, "runs past the end of the record");
	*p = c->base + c->pos;
	c->pos += n;
	return 0;
}

static int u64(struct cursor *c, const char *field, uint64_t *v)
{
	const uint8_t *p;
	int ret = take(c, field, 8, &p);

	if (!ret)
		memcpy(v, p, 8);
	return ret;
}

/* Skip @nr items of @each bytes, refusing counts that overflow. */
static int skip_n(struct cursor *c, const char *field, uint64_t nr, size_t each)
{
	const uint8_t *p;

	if (nr > (c->end - c->pos) / each)
		return fail(c, field, "count runs past the end of the record");
	return take(c, field, (size_t)(nr * each), &p);
}

static const char *const bit_names[] = {
	"PERF_SAMPLE_IP",
	"PERF_SAMPLE_TID",
	"PERF_SAMPLE_TIME",
	"PERF_SAMPLE_ADDR",
	"PERF_SAMPLE_READ",
	"PERF_SAMPLE_CALLCHAIN",
	"PERF_SAMPLE_ID",
	"PERF_SAMPLE_CPU",
	"PERF_SAMPLE_PERIOD",
	"PERF_SAMPLE_STREAM_ID",
	"PERF_SAMPLE_RAW",
	"PERF_SAMPLE_BRANCH_STACK",
	"PERF_SAMPLE_REGS_USER",
	"PERF_SAMPLE_STACK_USER",
	"PERF_SAMPLE_WEIGHT",
	"PERF_SAMPLE_DATA_SRC",
	"PERF_SAMPLE_IDENTIFIER",
	"PERF_SAMPLE_TRANSACTION",
	"PERF_SAMPLE_REGS_INTR",
	"PERF_SAMPLE_PHYS_ADDR",
	"PERF_SAMPLE_AUX",
	"PERF_SAMPLE_CGROUP",
	"PERF_SAMPLE_DATA_PAGE_SIZE",
	"PERF_SAMPLE_CODE_PAGE_SIZE",
	"PERF_SAMPLE_WEIGHT_STRUCT",
};

const char *ibsp_sample_type_bit_name(uint64_t bit)
{
	for (unsigned int i = 0; i < sizeof(bit_names) / sizeof(bit_names[0]); i++)
		if (bit == 1ULL << i)
			return bit_names[i];
	return NULL;
}

static int read_format_skip(struct cursor *c, uint64_t rf)
{
	uint64_t nr = 1, v;
	size_t each = 8;
	int ret;

	if (rf & PERF_FORMAT_GROUP) {
		ret = u64(c, "PERF_SAMPLE_READ nr", &nr);
		if (ret)
			return ret;
	} else {
		nr = 1;
	}
	if (rf & PERF_FORMAT_TOTAL_TIME_ENABLED &&
	    (ret = u64(c, "PERF_SAMPLE_READ time_enabled", &v)))
		return ret;
	if (rf & PERF_FORMAT_TOTAL_TIME_RUNNING &&
	    (ret = u64(c, "PERF_SAMPLE_READ time_running", &v)))
		return ret;
	/* Each value: u64 value, [u64 id], [u64 lost] (perf_output_read_one/_group). */
	if (rf & PERF_FORMAT_ID)
		each += 8;
	if (rf & PERF_FORMAT_LOST)
		each += 8;
	return skip_n(c, "PERF_SAMPLE_READ values", nr, each);
}

/* The u64 field of @bit, when @t has it. */
static int get_if(struct cursor *c, uint64_t t, uint64_t bit, const char *field, uint64_t *dst)
{
	return (t & bit) ? u64(c, field, dst) : 0;
}

/* IDENTIFIER up to PERIOD: the fixed u64 fields at the head of a sample. */
static int parse_head(struct cursor *c, uint64_t t, struct ibsp_raw_sample *s)
{
	uint64_t v;
	int ret;

	if ((ret = get_if(c, t, PERF_SAMPLE_IDENTIFIER, "PERF_SAMPLE_IDENTIFIER", &s->id)) ||
	    (ret = get_if(c, t, PERF_SAMPLE_IP, "PERF_SAMPLE_IP", &s->ip)))
		return ret;
	if (t & PERF_SAMPLE_TID) {
		if ((ret = u64(c, "PERF_SAMPLE_TID", &v)))
			return ret;
		s->pid = (uint32_t)v;
		s->tid = (uint32_t)(v >> 32);
	}
	if ((ret = get_if(c, t, PERF_SAMPLE_TIME, "PERF_SAMPLE_TIME", &s->time)) ||
	    (ret = get_if(c, t, PERF_SAMPLE_ADDR, "PERF_SAMPLE_ADDR", &s->addr)) ||
	    (ret = get_if(c, t, PERF_SAMPLE_ID, "PERF_SAMPLE_ID", &s->id)) ||
	    (ret = get_if(c, t, PERF_SAMPLE_STREAM_ID, "PERF_SAMPLE_STREAM_ID", &s->stream_id)))
		return ret;
	if (t & PERF_SAMPLE_CPU) {
		if ((ret = u64(c, "PERF_SAMPLE_CPU", &v)))
			return ret;
		s->cpu = (uint32_t)v;
	}
	return get_if(c, t, PERF_SAMPLE_PERIOD, "PERF_SAMPLE_PERIOD", &s->period);
}

static int skip_callchain(struct cursor *c)
{
	uint64_t v;
	int ret;

	if ((ret = u64(c, "PERF_SAMPLE_CALLCHAIN nr", &v)) ||
	    (ret = skip_n(c, "PERF_SAMPLE_CALLCHAIN ips", v, 8)))
		return ret;
	return 0;
}

static int parse_raw(struct cursor *c, struct ibsp_raw_sample *s)
{
	const uint8_t *p;
	uint32_t rs;
	int ret;

	if ((ret = take(c, "PERF_SAMPLE_RAW size", 4, &p)))
		return ret;
	memcpy(&rs, p, 4);
	/* The kernel pads the data so that the u32 size plus data ends 8-aligned. */
	if ((rs + 4) % 8)
		return fail(c, "PERF_SAMPLE_RAW size", "is not padded to 8 bytes");
	if ((ret = take(c, "PERF_SAMPLE_RAW data", rs, &p)))
		return ret;
	s->raw_size = rs;
	s->raw = p;
	return 0;
}

static int skip_branch_stack(struct cursor *c, const struct perf_event_attr *attr)
{
	uint64_t v;
	int ret;

	if ((ret = u64(c, "PERF_SAMPLE_BRANCH_STACK nr", &v)))
		return ret;
	if (attr->branch_sample_type & PERF_SAMPLE_BRANCH_HW_INDEX) {
		uint64_t hw_idx;

		if ((ret = u64(c, "PERF_SAMPLE_BRANCH_STACK hw_idx", &hw_idx)))
			return ret;
	}
	/* struct perf_branch_entry: from, to, flags = 24 bytes */
	return skip_n(c, "PERF_SAMPLE_BRANCH_STACK entries", v, 24);
}

/* REGS_USER or REGS_INTR: u64 abi, then one u64 per bit of @mask unless abi is 0. */
static int skip_regs(struct cursor *c, const char *abi_field, const char *regs_field, uint64_t mask)
{
	uint64_t v;
	int ret;

	if ((ret = u64(c, abi_field, &v)))
		return ret;
	if (v && (ret = skip_n(c, regs_field, (uint64_t)__builtin_popcountll(mask), 8)))
		return ret;
	return 0;
}

static int skip_stack_user(struct cursor *c)
{
	uint64_t v, dyn;
	int ret;

	if ((ret = u64(c, "PERF_SAMPLE_STACK_USER size", &v)))
		return ret;
	if (!v)
		return 0;
	if ((ret = skip_n(c, "PERF_SAMPLE_STACK_USER data", v, 1)) ||
	    (ret = u64(c, "PERF_SAMPLE_STACK_USER dyn_size", &dyn)))
		return ret;
	if (dyn > v)
		return fail(c, "PERF_SAMPLE_STACK_USER dyn_size", "exceeds the stack size");
	return 0;
}

static int parse_weight(struct cursor *c, uint64_t t, struct ibsp_raw_sample *s)
{
	const uint8_t *p;
	uint32_t var1;
	int ret;

	if (!(t & PERF_SAMPLE_WEIGHT_STRUCT))
		return get_if(c, t, PERF_SAMPLE_WEIGHT, "PERF_SAMPLE_WEIGHT", &s->weight);
	if ((ret = take(c, "PERF_SAMPLE_WEIGHT_STRUCT", 8, &p)))
		return ret;
	memcpy(&var1, p, 4);
	memcpy(&s->weight_var2, p + 4, 2);
	memcpy(&s->weight_var3, p + 6, 2);
	s->weight = var1;
	return 0;
}

/* READ up to STACK_USER: the variable-size fields in the middle of a sample. */
static int parse_middle(struct cursor *c, const struct perf_event_attr *attr,
			struct ibsp_raw_sample *s)
{
	uint64_t t = attr->sample_type;
	int ret = 0;

	if ((t & PERF_SAMPLE_READ) && (ret = read_format_skip(c, attr->read_format)))
		return ret;
	if ((t & PERF_SAMPLE_CALLCHAIN) && (ret = skip_callchain(c)))
		return ret;
	if ((t & PERF_SAMPLE_RAW) && (ret = parse_raw(c, s)))
		return ret;
	if ((t & PERF_SAMPLE_BRANCH_STACK) && (ret = skip_branch_stack(c, attr)))
		return ret;
	if ((t & PERF_SAMPLE_REGS_USER) &&
	    (ret = skip_regs(c, "PERF_SAMPLE_REGS_USER abi", "PERF_SAMPLE_REGS_USER regs",
			     attr->sample_regs_user)))
		return ret;
	if ((t & PERF_SAMPLE_STACK_USER) && (ret = skip_stack_user(c)))
		return ret;
	return 0;
}

/* WEIGHT up to AUX: the fields at the tail of a sample. */
static int parse_tail(struct cursor *c, const struct perf_event_attr *attr,
		      struct ibsp_raw_sample *s)
{
	uint64_t t = attr->sample_type, v;
	int ret;

	if ((ret = parse_weight(c, t, s)) ||
	    (ret = get_if(c, t, PERF_SAMPLE_DATA_SRC, "PERF_SAMPLE_DATA_SRC", &s->data_src)) ||
	    (ret =
		 get_if(c, t, PERF_SAMPLE_TRANSACTION, "PERF_SAMPLE_TRANSACTION", &s->transaction)))
		return ret;
	if ((t & PERF_SAMPLE_REGS_INTR) &&
	    (ret = skip_regs(c, "PERF_SAMPLE_REGS_INTR abi", "PERF_SAMPLE_REGS_INTR regs",
			     attr->sample_regs_intr)))
		return ret;
	if ((ret = get_if(c, t, PERF_SAMPLE_PHYS_ADDR, "PERF_SAMPLE_PHYS_ADDR", &s->phys_addr)) ||
	    (ret = get_if(c, t, PERF_SAMPLE_CGROUP, "PERF_SAMPLE_CGROUP", &s->cgroup)) ||
	    (ret = get_if(c, t, PERF_SAMPLE_DATA_PAGE_SIZE, "PERF_SAMPLE_DATA_PAGE_SIZE",
			  &s->data_page_size)) ||
	    (ret = get_if(c, t, PERF_SAMPLE_CODE_PAGE_SIZE, "PERF_SAMPLE_CODE_PAGE_SIZE",
			  &s->code_page_size)))
		return ret;
	if (t & PERF_SAMPLE_AUX) {
		if ((ret = u64(c, "PERF_SAMPLE_AUX size", &v)) ||
		    (ret = skip_n(c, "PERF_SAMPLE_AUX data", v, 1)))
			return ret;
	}
	return 0;
}

int ibsp_parse_sample(const struct perf_event_attr *attr, const void *rec, size_t size,
		      struct ibsp_raw_sample *s, struct ibsp_parse_err *err)
{
	const struct perf_event_header *hdr = rec;
	struct cursor c = { .base = rec, .pos = sizeof(*hdr), .end = size, .err = err };
	uint64_t t = attr->sample_type;
	int ret;

	memset(s, 0, sizeof(*s));
	s->type = t;
	if (size < sizeof(*hdr) || size != hdr->size) {
		c.pos = 0;
		return fail(&c, "header.size", "disagrees with the record length");
	}
	s->misc = hdr->misc;
	if (t & ~IBSP_SAMPLE_KNOWN_MASK) {
		c.pos = 0;
		return fail(&c, "attr.sample_type", "has bits this reader does not know");
	}
	if ((ret = parse_head(&c, t, s)) || (ret = parse_middle(&c, attr, s)) ||
	    (ret = parse_tail(&c, attr, s)))
		return ret;
	if (c.pos != c.end)
		return fail(&c, "header.size", "is larger than the fields of attr.sample_type");
	return 0;
}

size_t ibsp_sample_id_size(uint64_t t)
{
	size_t n = 0;

	n += (t & PERF_SAMPLE_TID) ? 8 : 0;
	n += (t & PERF_SAMPLE_TIME) ? 8 : 0;
	n += (t & PERF_SAMPLE_ID) ? 8 : 0;
	n += (t & PERF_SAMPLE_STREAM_ID) ? 8 : 0;
	n += (t & PERF_SAMPLE_CPU) ? 8 : 0;
	n += (t & PERF_SAMPLE_IDENTIFIER) ? 8 : 0;
	return n;
}

int ibsp_parse_id_trailer(uint64_t t, const void *rec, size_t size, uint64_t *time, int *has_time)
{
	size_t n = ibsp_sample_id_size(t), pos;

	*has_time = 0;
	if (size < sizeof(struct perf_event_header) + n)
		return -EINVAL;
	/* Trailer order: TID, TIME, ID, STREAM_ID, CPU, IDENTIFIER. */
	pos = size - n;
	if (t & PERF_SAMPLE_TID)
		pos += 8;
	if (t & PERF_SAMPLE_TIME) {
		memcpy(time, (const uint8_t *)rec + pos, 8);
		*has_time = 1;
	}
	return 0;
}

int ibsp_loss_stats__count(struct ibsp_loss_stats *st, const struct perf_event_header *h)
{
	uint64_t v[2];

	switch (h->type) {
	case PERF_RECORD_LOST: /* { u64 id; u64 lost; sample_id } */
		st->lost_records++;
		if (h->size >= sizeof(*h) + 16) {
			memcpy(v, h + 1, 16);
			st->lost += v[1];
		}
		return 1;
	case PERF_RECORD_LOST_SAMPLES: /* { u64 lost; sample_id } */
		if (h->size >= sizeof(*h) + 8) {
			memcpy(v, h + 1, 8);
			st->lost_samples += v[0];
		}
		return 1;
	case PERF_RECORD_THROTTLE:
		st->throttle++;
		return 1;
	case PERF_RECORD_UNTHROTTLE:
		st->unthrottle++;
		return 1;
	default:
		return 0;
	}
}
