// SPDX-License-Identifier: MIT
/*
 * ibsp_parse_sample(), ibsp_sample_id_size() and ibsp_parse_id_trailer() on
 * records built byte by byte: every decoded field per sample_type combination,
 * the exact skipping of the fields the parser does not keep (a sentinel field
 * after each one proves the skip), and the error paths.
 *
 * Sources: field order of Linux 6.1 kernel/events/core.c perf_output_sample()
 * and __perf_event__output_id_sample(), read_format of perf_output_read_one()
 * and perf_output_read_group(), layouts of include/uapi/linux/perf_event.h;
 * /work/shared/reference/sampling.md section 3.3.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "helpers.h"
#include "perf_sample.h"
#include "sample_types.h"

struct rec {
	uint64_t words[128]; /* 8-aligned, as in the ring buffer */
	size_t len;
};

static void put_u64(struct rec *r, uint64_t v)
{
	cr_assert_lt(r->len, sizeof(r->words), "record builder overflow");
	memcpy((uint8_t *)r->words + r->len, &v, 8);
	r->len += 8;
}

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->len = sizeof(struct perf_event_header);
}

/* Fill in the header now that the length is known. */
static void rec_finish(struct rec *r, uint16_t misc)
{
	struct perf_event_header h = { .type = PERF_RECORD_SAMPLE, .misc = misc, .size = r->len };

	memcpy(r->words, &h, sizeof(h));
}

/* The values every decoded field carries; each one distinct. */
#define V_ID	    0x1d1d1d1d00000001ULL
#define V_IP	    0xffffffff81000002ULL
#define V_PID	    1234u
#define V_TID	    1235u
#define V_TIME	    0x0000123456789abcULL
#define V_ADDR	    0x00007f0000001000ULL
#define V_STREAM_ID 0x5555000000000005ULL
#define V_CPU	    7u
#define V_PERIOD    100003ULL
#define V_RAW_SIZE  12u /* u32 size + 12 bytes = 16, no padding */
#define V_RAW0	    0xa3a2a1a0ULL
#define V_RAW1	    0xabaaa9a8a7a6a5a4ULL
#define V_WEIGHT    0x0000000100000321ULL
#define V_W1	    0x00abcdefu
#define V_W2	    0x1234u
#define V_W3	    0x5678u
#define V_DATA_SRC  0x0000002942100142ULL
#define V_TXN	    0x0000000000000031ULL
#define V_PHYS	    0x0000000123456000ULL
#define V_CGROUP    0x0000000000000abcULL
#define V_DPS	    0x200000ULL
#define V_CPS	    0x1000ULL

/* The content of a skipped field, as u64 words. */
struct skip {
	size_t nw;
	uint64_t w[12];
};

/* Kernel output order (perf_output_sample), with each decoded field as one u64 (little endian). */
static const struct {
	uint64_t bit, v;
	bool skipped;
} kernel_order[] = {
	{ PERF_SAMPLE_IDENTIFIER, V_ID, false },
	{ PERF_SAMPLE_IP, V_IP, false },
	{ PERF_SAMPLE_TID, V_PID | (uint64_t)V_TID << 32, false },
	{ PERF_SAMPLE_TIME, V_TIME, false },
	{ PERF_SAMPLE_ADDR, V_ADDR, false },
	{ PERF_SAMPLE_ID, V_ID, false },
	{ PERF_SAMPLE_STREAM_ID, V_STREAM_ID, false },
	{ PERF_SAMPLE_CPU, V_CPU, false }, /* u32 cpu, u32 res = 0 */
	{ PERF_SAMPLE_PERIOD, V_PERIOD, false },
	{ PERF_SAMPLE_READ, 0, true },
	{ PERF_SAMPLE_CALLCHAIN, 0, true },
	{ PERF_SAMPLE_RAW, V_RAW_SIZE | V_RAW0 << 32, false }, /* then V_RAW1 */
	{ PERF_SAMPLE_BRANCH_STACK, 0, true },
	{ PERF_SAMPLE_REGS_USER, 0, true },
	{ PERF_SAMPLE_STACK_USER, 0, true },
	{ PERF_SAMPLE_WEIGHT, V_WEIGHT, false },
	{ PERF_SAMPLE_WEIGHT_STRUCT, V_W1 | (uint64_t)V_W2 << 32 | (uint64_t)V_W3 << 48, false },
	{ PERF_SAMPLE_DATA_SRC, V_DATA_SRC, false },
	{ PERF_SAMPLE_TRANSACTION, V_TXN, false },
	{ PERF_SAMPLE_REGS_INTR, 0, true },
	{ PERF_SAMPLE_PHYS_ADDR, V_PHYS, false },
	{ PERF_SAMPLE_CGROUP, V_CGROUP, false },
	{ PERF_SAMPLE_DATA_PAGE_SIZE, V_DPS, false },
	{ PERF_SAMPLE_CODE_PAGE_SIZE, V_CPS, false },
	{ PERF_SAMPLE_AUX, 0, true },
};

/* Build a sample of type @t; skipped fields come from @sk, indexed by bit number. */
static void build(struct rec *r, uint64_t t, const struct skip *const *sk)
{
	rec_init(r);
	for (size_t i = 0; i < sizeof(kernel_order) / sizeof(kernel_order[0]); i++) {
		uint64_t b = kernel_order[i].bit;
		const struct skip *k;

		if (!(t & b))
			continue;
		if (!kernel_order[i].skipped) {
			put_u64(r, kernel_order[i].v);
			if (b == PERF_SAMPLE_RAW)
				put_u64(r, V_RAW1);
			continue;
		}
		k = sk ? sk[__builtin_ctzll(b)] : NULL;
		cr_assert(k, "no content for %s", ibsp_sample_type_bit_name(b));
		for (size_t w = 0; w < k->nw; w++)
			put_u64(r, k->w[w]);
	}
	rec_finish(r, PERF_RECORD_MISC_USER | PERF_RECORD_MISC_EXACT_IP);
}

#define EXPECT(bit, got, val)                                                                    \
	cr_assert_eq((uint64_t)(got), (t & (bit)) ? (uint64_t)(val) : 0, "%s: %s = %#llx", name, \
		     #got, (unsigned long long)(got))

/* Every decoded field: its V_* value when its bit is in @t, else 0. */
static void check_fields(const char *name, uint64_t t, const struct rec *r,
			 const struct ibsp_raw_sample *s)
{
	const uint8_t *base = (const uint8_t *)r->words;
	uint64_t raw[2];

	cr_assert_eq(s->type, t, "%s", name);
	cr_assert_eq(s->misc, PERF_RECORD_MISC_USER | PERF_RECORD_MISC_EXACT_IP, "%s", name);
	EXPECT(PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_ID, s->id, V_ID);
	EXPECT(PERF_SAMPLE_IP, s->ip, V_IP);
	EXPECT(PERF_SAMPLE_TID, s->pid, V_PID);
	EXPECT(PERF_SAMPLE_TID, s->tid, V_TID);
	EXPECT(PERF_SAMPLE_TIME, s->time, V_TIME);
	EXPECT(PERF_SAMPLE_ADDR, s->addr, V_ADDR);
	EXPECT(PERF_SAMPLE_STREAM_ID, s->stream_id, V_STREAM_ID);
	EXPECT(PERF_SAMPLE_CPU, s->cpu, V_CPU);
	EXPECT(PERF_SAMPLE_PERIOD, s->period, V_PERIOD);
	EXPECT(PERF_SAMPLE_RAW, s->raw_size, V_RAW_SIZE);
	if (t & PERF_SAMPLE_RAW) {
		cr_assert(s->raw > base && s->raw + s->raw_size <= base + r->len, "%s", name);
		memcpy(raw, s->raw - 4, 16);
		cr_assert(raw[0] >> 32 == V_RAW0 && raw[1] == V_RAW1, "%s: raw bytes", name);
	} else {
		cr_assert_null(s->raw, "%s", name);
	}
	if (t & PERF_SAMPLE_WEIGHT_STRUCT) {
		cr_assert_eq(s->weight, V_W1, "%s", name);
		cr_assert_eq(s->weight_var2, V_W2, "%s", name);
		cr_assert_eq(s->weight_var3, V_W3, "%s", name);
	} else {
		EXPECT(PERF_SAMPLE_WEIGHT, s->weight, V_WEIGHT);
		cr_assert_eq(s->weight_var2 | s->weight_var3, 0, "%s", name);
	}
	EXPECT(PERF_SAMPLE_DATA_SRC, s->data_src, V_DATA_SRC);
	EXPECT(PERF_SAMPLE_TRANSACTION, s->transaction, V_TXN);
	EXPECT(PERF_SAMPLE_PHYS_ADDR, s->phys_addr, V_PHYS);
	EXPECT(PERF_SAMPLE_CGROUP, s->cgroup, V_CGROUP);
	EXPECT(PERF_SAMPLE_DATA_PAGE_SIZE, s->data_page_size, V_DPS);
	EXPECT(PERF_SAMPLE_CODE_PAGE_SIZE, s->code_page_size, V_CPS);
}

#define SKIPPED_BITS                                                           \
	(PERF_SAMPLE_READ | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_BRANCH_STACK | \
	 PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER | PERF_SAMPLE_REGS_INTR | PERF_SAMPLE_AUX)
#define ALL_BITS ((uint64_t)PERF_SAMPLE_MAX - 1)

/* Both parsers: the generic one, and the attr's fixed layout where it has one (no skipped bit). */
static void parse_ok(const char *name, const struct perf_event_attr *attr, const struct rec *r)
{
	struct ibsp_parse_err err = { 0 };
	struct ibsp_sample_layout l;
	struct ibsp_raw_sample s;
	int ret = ibsp_parse_sample(attr, r->words, r->len, &s, &err);

	cr_assert_eq(ret, 0, "%s: %d (%s %s)", name, ret, err.field, err.reason);
	check_fields(name, attr->sample_type, r, &s);
	ibsp_sample_layout__init(&l, attr);
	cr_assert_eq(l.fixed, !(attr->sample_type & SKIPPED_BITS), "%s: layout fixed %d", name,
		     l.fixed);
	if (!l.fixed)
		return;
	memset(&s, 0xa5, sizeof(s)); /* every field the layout leaves must come out 0 */
	cr_assert_eq(ibsp_parse_sample_fixed(&l, r->words, r->len, &s), 0, "%s: fixed layout",
		     name);
	check_fields(name, attr->sample_type, r, &s);
}

Test(sample_parse, decoded_fields_per_sample_type)
{
	static const struct {
		const char *name;
		uint64_t type;
	} rows[] = {
		{ "none", 0 },
		{ "ip", PERF_SAMPLE_IP },
		{ "tid|time", PERF_SAMPLE_TID | PERF_SAMPLE_TIME },
		{ "identifier|ip|tid|time|addr|cpu|period",
		  PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
		      PERF_SAMPLE_ADDR | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD },
		{ "id|stream_id", PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID },
		{ "identifier|id", PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_ID },
		{ "ibs_op: raw|tid|time|cpu",
		  PERF_SAMPLE_RAW | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU },
		{ "pebs: ip|tid|addr|weight|data_src|phys_addr",
		  PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT |
		      PERF_SAMPLE_DATA_SRC | PERF_SAMPLE_PHYS_ADDR },
		{ "weight_struct|data_src|transaction",
		  PERF_SAMPLE_WEIGHT_STRUCT | PERF_SAMPLE_DATA_SRC | PERF_SAMPLE_TRANSACTION },
		{ "phys_addr|cgroup|data_page_size|code_page_size",
		  PERF_SAMPLE_PHYS_ADDR | PERF_SAMPLE_CGROUP | PERF_SAMPLE_DATA_PAGE_SIZE |
		      PERF_SAMPLE_CODE_PAGE_SIZE },
		{ "all decoded (weight)", ALL_BITS & ~(SKIPPED_BITS | PERF_SAMPLE_WEIGHT_STRUCT) },
		{ "all decoded (weight_struct)", ALL_BITS & ~(SKIPPED_BITS | PERF_SAMPLE_WEIGHT) },
		/* The types parsed by a function of their own (perf_sample_layout.c). */
		{ "our soft sampler", IBSP_TYPE_SOFT },
		{ "our IBS-op sampler", IBSP_TYPE_IBS },
		{ "our PEBS sampler", IBSP_TYPE_PEBS },
		{ "perf record -e ibs_op// -a", IBSP_TYPE_PERF_IBS },
		{ "perf record -e ibs_op// -a -d", IBSP_TYPE_PERF_IBS_D },
		{ "perf mem record", IBSP_TYPE_PERF_MEM },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct perf_event_attr attr = { .sample_type = rows[i].type };
		struct rec r;

		build(&r, rows[i].type, NULL);
		parse_ok(rows[i].name, &attr, &r);
	}
}

/* An ibs_op sample written out word by word, independently of build(). */
Test(sample_parse, ibs_op_literal_record)
{
	static const uint64_t words[] = {
		(uint64_t)PERF_RECORD_SAMPLE | (uint64_t)PERF_RECORD_MISC_KERNEL << 32 |
		    (uint64_t)(8 * 12) << 48,
		0x0000000a00000009ULL, /* pid 9, tid 10 */
		0x1122334455667788ULL, /* time */
		0x0000000000000003ULL, /* cpu 3, res */
		0x0000033c0000003cULL, /* raw size 60, caps 0x33c */
		/* the 7 registers, 8-aligned in the record */
		1,
		2,
		3,
		4,
		5,
		6,
		7,
	};
	struct perf_event_attr attr = {
		.sample_type =
		    PERF_SAMPLE_RAW | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU,
	};
	struct ibsp_parse_err err;
	struct ibsp_raw_sample s;
	uint64_t reg;
	uint32_t caps;

	cr_assert_eq(ibsp_parse_sample(&attr, words, sizeof(words), &s, &err), 0);
	cr_assert(s.pid == 9 && s.tid == 10 && s.cpu == 3);
	cr_assert_eq(s.time, 0x1122334455667788ULL);
	cr_assert_eq(s.raw_size, 60);
	cr_assert_eq(s.raw, (const uint8_t *)words + 36);
	memcpy(&caps, s.raw, 4);
	cr_assert_eq(caps, 0x33c);
	for (unsigned int i = 0; i < 7; i++) {
		memcpy(&reg, s.raw + 4 + 8 * i, 8);
		cr_assert_eq(reg, i + 1);
	}
	cr_assert_eq(s.misc, PERF_RECORD_MISC_KERNEL);
}

/* Skipped fields, word by word as the kernel writes them. */
/* clang-format off */
/* value, time_enabled, time_running, id, lost */
static const struct skip read_one = { 5, { 0xe0, 0xe1, 0xe2, 0xe3, 0xe4 } };
static const struct skip read_group = { 5, { 2, 0xe0, 0xe1, 0xe2, 0xe3 } };  /* nr, {v, id} x 2 */
/* nr, time_enabled, time_running, {value, id, lost} x 2 */
static const struct skip read_group_all = { 9, { 2, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6,
						 0xe7 } };
static const struct skip callchain = { 4, { 3, PERF_CONTEXT_USER, 0x401000, 0x401100 } };
static const struct skip branch = { 7, { 2, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5 } }; /* 24 B each */
static const struct skip branch_hw_idx = { 8, { 2, 1, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5 } };
static const struct skip regs5 = { 6, { PERF_SAMPLE_REGS_ABI_64, 0x70, 0x71, 0x72, 0x73, 0x74 } };
static const struct skip regs_none = { 1, { PERF_SAMPLE_REGS_ABI_NONE } }; /* no registers */
static const struct skip stack16 = { 4, { 16, 0x5a, 0x5b, 12 } };	    /* size, data, dyn_size */
static const struct skip stack0 = { 1, { 0 } };			    /* size 0: nothing else */
static const struct skip aux16 = { 3, { 16, 0xa0, 0xa1 } };		    /* size, data */
/* clang-format on */

#define REGS5	  0x10fULL /* popcount 5 */
#define SENTINELS (PERF_SAMPLE_IP | PERF_SAMPLE_DATA_SRC | PERF_SAMPLE_PHYS_ADDR)

Test(sample_parse, skipped_fields_are_skipped_exactly)
{
	static const struct {
		const char *name;
		struct perf_event_attr attr; /* sample_type: the one skipped field */
		const struct skip *sk;
	} rows[] = {
		/* clang-format off */
		{ "read one", { .sample_type = PERF_SAMPLE_READ,
		  .read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING |
				 PERF_FORMAT_ID | PERF_FORMAT_LOST }, &read_one },
		{ "read group id", { .sample_type = PERF_SAMPLE_READ,
		  .read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID }, &read_group },
		{ "read group all", { .sample_type = PERF_SAMPLE_READ,
		  .read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
				 PERF_FORMAT_TOTAL_TIME_RUNNING | PERF_FORMAT_ID | PERF_FORMAT_LOST },
		  &read_group_all },
		{ "callchain", { .sample_type = PERF_SAMPLE_CALLCHAIN }, &callchain },
		{ "branch", { .sample_type = PERF_SAMPLE_BRANCH_STACK,
		  .branch_sample_type = PERF_SAMPLE_BRANCH_ANY }, &branch },
		{ "branch hw_idx", { .sample_type = PERF_SAMPLE_BRANCH_STACK,
		  .branch_sample_type = PERF_SAMPLE_BRANCH_ANY | PERF_SAMPLE_BRANCH_HW_INDEX },
		  &branch_hw_idx },
		{ "regs_user", { .sample_type = PERF_SAMPLE_REGS_USER, .sample_regs_user = REGS5,
		  .sample_regs_intr = 0xff }, &regs5 },
		{ "regs_user abi none", { .sample_type = PERF_SAMPLE_REGS_USER,
		  .sample_regs_user = REGS5 }, &regs_none },
		{ "stack_user", { .sample_type = PERF_SAMPLE_STACK_USER, .sample_stack_user = 16 },
		  &stack16 },
		{ "stack_user empty", { .sample_type = PERF_SAMPLE_STACK_USER }, &stack0 },
		{ "regs_intr", { .sample_type = PERF_SAMPLE_REGS_INTR, .sample_regs_user = 0xff,
		  .sample_regs_intr = REGS5 }, &regs5 },
		{ "regs_intr abi none", { .sample_type = PERF_SAMPLE_REGS_INTR,
		  .sample_regs_intr = REGS5 }, &regs_none },
		{ "aux", { .sample_type = PERF_SAMPLE_AUX, .aux_sample_size = 16 }, &aux16 },
		/* clang-format on */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct perf_event_attr attr = rows[i].attr;
		uint64_t bit = attr.sample_type;
		/* AUX is last: without its final u64 the record ends inside its data. */
		int aux = bit == PERF_SAMPLE_AUX;
		const struct skip *sk[64] = { 0 };
		struct ibsp_parse_err err = { 0 };
		struct ibsp_raw_sample s;
		struct rec r;

		attr.sample_type |= SENTINELS;
		sk[__builtin_ctzll(bit)] = rows[i].sk;
		build(&r, attr.sample_type, sk);
		parse_ok(rows[i].name, &attr, &r);

		r.len -= 8;
		rec_finish(&r, 0);
		struct ibsp_sample_layout l;

		ibsp_sample_layout__init(&l, &attr);
		/* The fixed layout refuses it too, and leaves the error to the generic parser. */
		cr_assert_eq(ibsp_parse_sample_fixed(&l, r.words, r.len, &s), -1, "%s",
			     rows[i].name);
		cr_assert_eq(ibsp_parse_sample(&attr, r.words, r.len, &s, &err), -EINVAL, "%s",
			     rows[i].name);
		cr_assert_str_eq(err.field, aux ? "PERF_SAMPLE_AUX data" : "PERF_SAMPLE_PHYS_ADDR",
				 "%s truncated", rows[i].name);
		cr_assert_eq(err.offset, r.len - (aux ? 8 : 0), "%s: offset %zu", rows[i].name,
			     err.offset);
	}
}

/* All skipped fields in one record, around all the decoded ones. */
Test(sample_parse, every_field_at_once)
{
	struct perf_event_attr attr = {
		.sample_type = ALL_BITS & ~(uint64_t)PERF_SAMPLE_WEIGHT,
		.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID,
		.branch_sample_type = PERF_SAMPLE_BRANCH_ANY | PERF_SAMPLE_BRANCH_HW_INDEX,
		.sample_regs_user = REGS5,
		.sample_regs_intr = REGS5,
	};
	const struct skip *sk[64] = { 0 };
	struct rec r;

	sk[__builtin_ctzll(PERF_SAMPLE_READ)] = &read_group;
	sk[__builtin_ctzll(PERF_SAMPLE_CALLCHAIN)] = &callchain;
	sk[__builtin_ctzll(PERF_SAMPLE_BRANCH_STACK)] = &branch_hw_idx;
	sk[__builtin_ctzll(PERF_SAMPLE_REGS_USER)] = &regs5;
	sk[__builtin_ctzll(PERF_SAMPLE_STACK_USER)] = &stack16;
	sk[__builtin_ctzll(PERF_SAMPLE_REGS_INTR)] = &regs5;
	sk[__builtin_ctzll(PERF_SAMPLE_AUX)] = &aux16;
	build(&r, attr.sample_type, sk);
	parse_ok("all", &attr, &r);
}

/* Record bodies as u64 words after the header. */
Test(sample_parse, errors)
{
	static const struct {
		const char *name;
		uint64_t type, read_format;
		struct skip body;
		const char *field;
		long offset; /* -1: not checked */
	} rows[] = {
		/* clang-format off */
		{ "shorter than its fields", PERF_SAMPLE_IP | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR, 0,
		  { 2, { V_IP, V_TIME } }, "PERF_SAMPLE_ADDR", 24 },
		{ "raw data cut short", PERF_SAMPLE_RAW, 0, { 1, { 20 } }, "PERF_SAMPLE_RAW data", 12 },
		{ "longer than its fields", PERF_SAMPLE_IP, 0, { 2, { V_IP, 0 } }, "header.size", 16 },
		{ "raw size not 8-aligned", PERF_SAMPLE_RAW, 0, { 2, { 10 } }, "PERF_SAMPLE_RAW size",
		  -1 },
		{ "unknown sample_type bit", PERF_SAMPLE_IP | (1ULL << 30), 0, { 1, { V_IP } },
		  "attr.sample_type", 0 },
		/* Counts whose byte size wraps around 2^64 (to 0 or 8) must still fail. */
		{ "callchain nr 1<<61", PERF_SAMPLE_CALLCHAIN, 0, { 2, { 1ULL << 61 } },
		  "PERF_SAMPLE_CALLCHAIN ips", 16 },
		{ "branch nr huge", PERF_SAMPLE_BRANCH_STACK, 0, { 2, { 0x0aaaaaaaaaaaaaabULL } },
		  "PERF_SAMPLE_BRANCH_STACK entries", 16 },
		{ "read group nr 1<<60", PERF_SAMPLE_READ, PERF_FORMAT_GROUP | PERF_FORMAT_ID,
		  { 2, { 1ULL << 60 } }, "PERF_SAMPLE_READ values", 16 },
		{ "stack size huge", PERF_SAMPLE_STACK_USER, 0, { 2, { ~0ULL } },
		  "PERF_SAMPLE_STACK_USER data", 16 },
		{ "stack dyn_size > size", PERF_SAMPLE_STACK_USER, 0, { 3, { 8, 0, 9 } },
		  "PERF_SAMPLE_STACK_USER dyn_size", -1 },
		{ "aux size huge", PERF_SAMPLE_AUX, 0, { 2, { ~0ULL - 7 } }, "PERF_SAMPLE_AUX data",
		  16 },
		/* clang-format on */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct perf_event_attr attr = { .sample_type = rows[i].type,
						.read_format = rows[i].read_format };
		struct ibsp_parse_err err = { 0 };
		struct ibsp_raw_sample s;
		struct rec r;

		rec_init(&r);
		for (size_t k = 0; k < rows[i].body.nw; k++)
			put_u64(&r, rows[i].body.w[k]);
		rec_finish(&r, 0);
		struct ibsp_sample_layout l;

		ibsp_sample_layout__init(&l, &attr);
		/* The fixed layout refuses it too, and leaves the error to the generic parser. */
		cr_assert_eq(ibsp_parse_sample_fixed(&l, r.words, r.len, &s), -1, "%s",
			     rows[i].name);
		cr_assert_eq(ibsp_parse_sample(&attr, r.words, r.len, &s, &err), -EINVAL, "%s",
			     rows[i].name);
		cr_assert_str_eq(err.field, rows[i].field, "%s", rows[i].name);
		cr_assert_not_null(err.reason, "%s", rows[i].name);
		if (rows[i].offset >= 0)
			cr_assert_eq(err.offset, (size_t)rows[i].offset, "%s: offset %zu",
				     rows[i].name, err.offset);
	}

	/* header.size disagrees with the length, or is shorter than a header */
	struct perf_event_attr attr = { .sample_type = PERF_SAMPLE_IP };
	struct ibsp_parse_err err = { 0 };
	struct ibsp_raw_sample s;
	struct rec r;

	struct ibsp_sample_layout l;

	build(&r, PERF_SAMPLE_IP, NULL);
	ibsp_sample_layout__init(&l, &attr);
	cr_assert_eq(ibsp_parse_sample_fixed(&l, r.words, r.len + 8, &s), -1);
	cr_assert_eq(ibsp_parse_sample_fixed(&l, r.words, 4, &s), -1);
	/* also by the types' own functions: a length 8 bytes off either way, a header alone */
	static const uint64_t typed[] = { IBSP_TYPE_SOFT,	IBSP_TYPE_IBS,
					  IBSP_TYPE_PEBS,	IBSP_TYPE_PERF_IBS,
					  IBSP_TYPE_PERF_IBS_D, IBSP_TYPE_PERF_MEM };
	for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
		struct perf_event_attr ta = { .sample_type = typed[i] };
		struct rec tr;

		build(&tr, typed[i], NULL);
		ibsp_sample_layout__init(&l, &ta);
		cr_assert_eq(ibsp_parse_sample_fixed(&l, tr.words, tr.len, &s), 0, "%zu", i);
		cr_assert_eq(ibsp_parse_sample_fixed(&l, tr.words, tr.len + 8, &s), -1, "%zu", i);
		cr_assert_eq(ibsp_parse_sample_fixed(&l, tr.words, tr.len - 8, &s), -1, "%zu", i);
		cr_assert_eq(ibsp_parse_sample_fixed(&l, tr.words, 8, &s), -1, "%zu", i);
	}
	cr_assert_eq(ibsp_parse_sample(&attr, r.words, r.len + 8, &s, &err), -EINVAL);
	cr_assert_str_eq(err.field, "header.size");
	cr_assert_eq(ibsp_parse_sample(&attr, r.words, 4, &s, &err), -EINVAL);
	cr_assert_str_eq(err.field, "header.size");
}

Test(sample_parse, sample_id_trailer)
{
	static const struct {
		uint64_t type;
		size_t size;
		int has_time;
	} rows[] = {
		{ 0, 0, 0 },
		{ PERF_SAMPLE_TIME, 8, 1 },
		{ PERF_SAMPLE_TID | PERF_SAMPLE_TIME, 16, 1 },
		{ PERF_SAMPLE_TID | PERF_SAMPLE_CPU | PERF_SAMPLE_IDENTIFIER, 24, 0 },
		{ PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID |
		      PERF_SAMPLE_CPU | PERF_SAMPLE_IDENTIFIER,
		  48, 1 },
		/* Fields that never go into the trailer do not count. */
		{ PERF_SAMPLE_IP | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_RAW |
		      PERF_SAMPLE_PHYS_ADDR,
		  8, 1 },
	};
	/* Trailer order: TID, TIME, ID, STREAM_ID, CPU, IDENTIFIER. */
	static const uint64_t order[] = { PERF_SAMPLE_TID, PERF_SAMPLE_TIME,
					  PERF_SAMPLE_ID,  PERF_SAMPLE_STREAM_ID,
					  PERF_SAMPLE_CPU, PERF_SAMPLE_IDENTIFIER };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t t = rows[i].type, time = 0;
		int has_time = -1;
		struct rec r;

		cr_assert_eq(ibsp_sample_id_size(t), rows[i].size, "row %zu", i);
		/* A PERF_RECORD_LOST body (id, lost), then the trailer. */
		rec_init(&r);
		put_u64(&r, 0x1d);
		put_u64(&r, 42);
		for (size_t k = 0; k < 6; k++)
			if (t & order[k])
				put_u64(&r, order[k] == PERF_SAMPLE_TIME ? V_TIME + i : 0xf0 + k);
		rec_finish(&r, 0);
		cr_assert_eq(ibsp_parse_id_trailer(t, r.words, r.len, &time, &has_time), 0);
		cr_assert_eq(has_time, rows[i].has_time, "row %zu", i);
		if (has_time)
			cr_assert_eq(time, V_TIME + i, "row %zu: time %#llx", i,
				     (unsigned long long)time);
		if (rows[i].size) /* shorter than header + trailer */
			cr_assert_eq(ibsp_parse_id_trailer(t, r.words, 8 + rows[i].size - 1, &time,
							   &has_time),
				     -EINVAL, "row %zu", i);
	}
}
