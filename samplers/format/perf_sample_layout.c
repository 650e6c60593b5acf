// SPDX-License-Identifier: MIT
/*
 * The fixed layout of an attr's PERF_RECORD_SAMPLE: where each field sits,
 * computed once per attr, so that a sample of the common kinds (IBS-op with
 * RAW, `perf mem record`, PEBS load latency, page faults) is read by a
 * table of copies instead of a test of each sample_type bit. Anything the
 * layout cannot place, or any record whose size disagrees with it, goes to
 * ibsp_parse_sample(), which owns every check and every error message.
 * Field order: Linux 6.1 kernel/events/core.c perf_output_sample().
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "perf_sample.h"
#include "sample_types.h"

_Static_assert(sizeof(struct ibsp_raw_sample) <= UINT8_MAX, "copy offsets are one byte");
_Static_assert(sizeof(struct ibsp_raw_sample) % 16 == 0, "zeroed 16 bytes at a time");
/* Every copy is 8 bytes: CPU's u32 and its reserved u32 land on cpu and the padding after it. */
_Static_assert(offsetof(struct ibsp_raw_sample, period) >=
		   offsetof(struct ibsp_raw_sample, cpu) + 8,
	       "cpu must be followed by 4 bytes of padding");

/* Bits whose size varies per sample: such an attr keeps the generic parser. */
#define VARIABLE_BITS                                                          \
	(PERF_SAMPLE_READ | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_BRANCH_STACK | \
	 PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER | PERF_SAMPLE_REGS_INTR | PERF_SAMPLE_AUX)

struct field_place {
	uint64_t bit;
	size_t dst; /* offset in struct ibsp_raw_sample; 8 bytes are copied there */
};

/* The u64 fields before RAW, in record order. TID fills pid and tid; CPU's u32 is the low half. */
static const struct field_place head_fields[] = {
	{ PERF_SAMPLE_IDENTIFIER, offsetof(struct ibsp_raw_sample, id) },
	{ PERF_SAMPLE_IP, offsetof(struct ibsp_raw_sample, ip) },
	{ PERF_SAMPLE_TID, offsetof(struct ibsp_raw_sample, pid) },
	{ PERF_SAMPLE_TIME, offsetof(struct ibsp_raw_sample, time) },
	{ PERF_SAMPLE_ADDR, offsetof(struct ibsp_raw_sample, addr) },
	{ PERF_SAMPLE_ID, offsetof(struct ibsp_raw_sample, id) },
	{ PERF_SAMPLE_STREAM_ID, offsetof(struct ibsp_raw_sample, stream_id) },
	{ PERF_SAMPLE_CPU, offsetof(struct ibsp_raw_sample, cpu) },
	{ PERF_SAMPLE_PERIOD, offsetof(struct ibsp_raw_sample, period) },
};

/* The u64 fields after RAW, in record order (WEIGHT_STRUCT apart). */
static const struct field_place tail_fields[] = {
	{ PERF_SAMPLE_WEIGHT, offsetof(struct ibsp_raw_sample, weight) },
	{ PERF_SAMPLE_DATA_SRC, offsetof(struct ibsp_raw_sample, data_src) },
	{ PERF_SAMPLE_TRANSACTION, offsetof(struct ibsp_raw_sample, transaction) },
	{ PERF_SAMPLE_PHYS_ADDR, offsetof(struct ibsp_raw_sample, phys_addr) },
	{ PERF_SAMPLE_CGROUP, offsetof(struct ibsp_raw_sample, cgroup) },
	{ PERF_SAMPLE_DATA_PAGE_SIZE, offsetof(struct ibsp_raw_sample, data_page_size) },
	{ PERF_SAMPLE_CODE_PAGE_SIZE, offsetof(struct ibsp_raw_sample, code_page_size) },
};

/*
 * The whole struct zeroed by 16-byte stores, before the copies fill their words.
 * A memset (or a loop GCC turns into one) compiles to `rep stos` here, whose start-up
 * cost more than the rest of the parse; a list of the words no copy fills took four
 * instructions a word (callgrind: 204 instructions a sample for the parse, 100 now).
 */
static inline void zero_raw_sample(struct ibsp_raw_sample *s)
{
	typedef uint64_t zero16 __attribute__((vector_size(16)));
	zero16 z = { 0, 0 };

	__asm__("" : "+x"(z)); /* an opaque value: not recognised as a memset */
#pragma GCC unroll 16
	for (size_t i = 0; i < sizeof(*s) / 16; i++)
		memcpy((char *)s + 16 * i, &z, 16);
}

static int add_copy(struct ibsp_sample_layout *l, const struct field_place *f, size_t src)
{
	struct ibsp_sample_copy *c;

	if (l->nr_copies == IBSP_LAYOUT_MAX_COPIES || src > UINT16_MAX)
		return -1;
	c = &l->copies[l->nr_copies++];
	c->dst = (uint8_t)f->dst;
	c->src = (uint16_t)src;
	return 0;
}

/* The tail's fields, placed from the end of RAW (or of the head, without RAW). */
static int place_tail(struct ibsp_sample_layout *l, uint64_t t)
{
	size_t pos = 0;

	l->first_tail = l->nr_copies;
	if (t & PERF_SAMPLE_WEIGHT_STRUCT) {
		l->weight_struct = 1;
		l->weight_struct_at = 0;
		pos = 8;
	}
	for (size_t i = 0; i < sizeof(tail_fields) / sizeof(tail_fields[0]); i++) {
		if (!(t & tail_fields[i].bit) ||
		    (tail_fields[i].bit == PERF_SAMPLE_WEIGHT && l->weight_struct))
			continue;
		if (add_copy(l, &tail_fields[i], pos))
			return -1;
		pos += 8;
	}
	l->tail_size = (uint16_t)pos;
	return 0;
}

void ibsp_sample_layout__init(struct ibsp_sample_layout *l, const struct perf_event_attr *attr)
{
	uint64_t t = attr->sample_type;
	size_t pos = sizeof(struct perf_event_header);

	memset(l, 0, sizeof(*l));
	l->type = t;
	if ((t & ~IBSP_SAMPLE_KNOWN_MASK) || (t & VARIABLE_BITS))
		return;
	for (size_t i = 0; i < sizeof(head_fields) / sizeof(head_fields[0]); i++) {
		if (!(t & head_fields[i].bit))
			continue;
		if (add_copy(l, &head_fields[i], pos))
			return;
		pos += 8;
	}
	l->head_size = (uint16_t)pos;
	l->has_raw = !!(t & PERF_SAMPLE_RAW);
	if (place_tail(l, t))
		return;
	l->fixed = 1;
}

/* The bits of the fields before RAW (head_fields) and after it (tail_fields). */
#define HEAD_BITS                                                                       \
	(PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | \
	 PERF_SAMPLE_ADDR | PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU |  \
	 PERF_SAMPLE_PERIOD)
#define TAIL_BITS                                                                  \
	(PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC | PERF_SAMPLE_TRANSACTION |     \
	 PERF_SAMPLE_PHYS_ADDR | PERF_SAMPLE_CGROUP | PERF_SAMPLE_DATA_PAGE_SIZE | \
	 PERF_SAMPLE_CODE_PAGE_SIZE)

/*
 * What every layout checks and fills the same way: the record is at least
 * @head bytes; RAW's size, when @has_raw, is padded and fits; the fields
 * after it are exactly @tail bytes, and the header's size is @size. Zeroes
 * @s and sets its type, misc and RAW; *@tail_at: where the tail starts.
 */
static inline __attribute__((always_inline)) int frame(uint64_t type, const void *rec, size_t size,
						       size_t head, size_t tail, bool has_raw,
						       struct ibsp_raw_sample *s, size_t *tail_at)
{
	const uint8_t *p = rec;

	if (size < head)
		return -1;
	zero_raw_sample(s);
	*tail_at = head;
	if (has_raw) {
		uint32_t rs;

		if (size - head < 4)
			return -1;
		memcpy(&rs, p + head, 4);
		if ((rs + 4) % 8 || size - head - 4 < rs)
			return -1;
		*tail_at += 4 + (size_t)rs;
		s->raw_size = rs;
		s->raw = p + head + 4;
	}
	/* The size must be exactly the fields'; a record header that disagrees goes generic. */
	if (size - *tail_at != tail || ((const struct perf_event_header *)rec)->size != size)
		return -1;
	s->type = type;
	s->misc = ((const struct perf_event_header *)rec)->misc;
	return 0;
}

/* WEIGHT_STRUCT at @w: var1_dw, var2_w, var3_w. */
static inline void take_weight_struct(const uint8_t *w, struct ibsp_raw_sample *s)
{
	uint32_t var1;

	memcpy(&var1, w, 4);
	memcpy(&s->weight_var2, w + 4, 2);
	memcpy(&s->weight_var3, w + 6, 2);
	s->weight = var1;
}

/*
 * What the table of @t's layout does (ibsp_sample_layout__init() and the
 * loop below), with @t known: the same checks, and the same fields from
 * head_fields and tail_fields, walked by unrolled loops. The sample_types
 * read most (sample_types.h) are each parsed by it with @t a constant: every
 * test and every place folds, each copy a move to a fixed place, where the
 * layout's table costs a loop and two loads a field.
 */
static inline __attribute__((always_inline)) int parse_typed(uint64_t t, const void *rec,
							     size_t size, struct ibsp_raw_sample *s)
{
	const size_t head =
	    sizeof(struct perf_event_header) + 8 * (size_t)__builtin_popcountll(t & HEAD_BITS);
	const bool wstruct = t & PERF_SAMPLE_WEIGHT_STRUCT;
	const size_t tail =
	    8 * (size_t)__builtin_popcountll(t & TAIL_BITS & ~(wstruct ? PERF_SAMPLE_WEIGHT : 0)) +
	    (wstruct ? 8 : 0);
	const uint8_t *p = rec;
	size_t at = sizeof(struct perf_event_header), tail_at;

	if (frame(t, rec, size, head, tail, t & PERF_SAMPLE_RAW, s, &tail_at))
		return -1;
#pragma GCC unroll 16
	for (size_t i = 0; i < sizeof(head_fields) / sizeof(head_fields[0]); i++) {
		if (t & head_fields[i].bit) {
			memcpy((uint8_t *)s + head_fields[i].dst, p + at, 8);
			at += 8;
		}
	}
	at = tail_at;
	if (wstruct) {
		take_weight_struct(p + at, s);
		at += 8;
	}
#pragma GCC unroll 16
	for (size_t i = 0; i < sizeof(tail_fields) / sizeof(tail_fields[0]); i++) {
		if ((t & tail_fields[i].bit) &&
		    !(wstruct && tail_fields[i].bit == PERF_SAMPLE_WEIGHT)) {
			memcpy((uint8_t *)s + tail_fields[i].dst, p + at, 8);
			at += 8;
		}
	}
	return 0;
}

int ibsp_parse_sample_fixed(const struct ibsp_sample_layout *l, const void *rec, size_t size,
			    struct ibsp_raw_sample *s)
{
	const uint8_t *p = rec;
	size_t tail_at;
	uint32_t i;

	if (!l->fixed)
		return -1;
#define PARSE_TYPED(t) \
	case t:        \
		return parse_typed(t, rec, size, s);
	switch (l->type) {
		IBSP_FOR_EACH_READ_MOST_TYPE(PARSE_TYPED)
	default:
		break;
	}
#undef PARSE_TYPED
	if (frame(l->type, rec, size, l->head_size, l->tail_size, l->has_raw, s, &tail_at))
		return -1;
	for (i = 0; i < l->first_tail; i++)
		memcpy((uint8_t *)s + l->copies[i].dst, p + l->copies[i].src, 8);
	for (; i < l->nr_copies; i++)
		memcpy((uint8_t *)s + l->copies[i].dst, p + tail_at + l->copies[i].src, 8);
	if (l->weight_struct)
		take_weight_struct(p + tail_at + l->weight_struct_at, s);
	return 0;
}
