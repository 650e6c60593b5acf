// SPDX-License-Identifier: MIT
/*
 * ibsp-gen, the synthetic IBS-op (and, with --pebs, Intel PEBS) recording generator
 * (bench/gen/):
 *  - the library reader gets exactly the truth's samples per page and accessor node,
 *    every sample valid, every physical address on the truth's node;
 *  - perf script reads the files without a warning and prints every sample; for PEBS
 *    and IBS without RAW (perf mem), perf's own decoding of each sample's CPU, address
 *    and physical address is ours;
 *  - PEBS and perf-mem recordings replay exactly as the IBS one of the same accesses;
 *  - the bundled example regenerates byte for byte with its documented command;
 *  - the access patterns have the properties docs/generator.md promises;
 *  - bad options exit 2 naming the option.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define MAX_NODES 8

/* The command docs/generator.md gives for tests/fixtures/example-2s-cxl.{data,truth.jsonl}. */
#define EXAMPLE_ARGS                                                                    \
	"--topology 2s-cxl --pattern private:50,shared:20,cold:20,zipf:10 --pages 320 " \
	"--samples 36000 --duration-ms 60000 --thp 0.5 --seed 1"

struct tpage {
	uint32_t pid;
	uint64_t vaddr, pfn, size;
	int node, owner, owner2, half;
	char cls[8];
	bool hot;
	uint64_t samples;
	uint64_t per_node[MAX_NODES]; /* by node id */
	uint64_t got[MAX_NODES];      /* what the reader saw, by accessor node id */
};

struct truth {
	size_t n;
	struct tpage *p;
	uint64_t start_ns, samples, phase_ns;
	bool has_phase;
};

static int64_t jint(json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static void load_truth(const char *path, struct truth *t)
{
	size_t len, cap = 1024;
	char *text = (char *)slurp(path, &len), *line = text, *nl;

	memset(t, 0, sizeof(*t));
	t->p = calloc(cap, sizeof(*t->p));
	for (; (nl = strchr(line, '\n')); line = nl + 1) {
		json_error_t jerr;
		json_t *o = json_loadb(line, (size_t)(nl - line), 0, &jerr);
		const char *type;

		cr_assert(o, "%s: bad JSON line: %s", path, jerr.text);
		type = json_string_value(json_object_get(o, "type"));
		cr_assert(type);
		if (!strcmp(type, "meta")) {
			json_t *ph = json_object_get(o, "phase_ms");

			t->start_ns = (uint64_t)jint(o, "start_ns", -1);
			t->samples = (uint64_t)jint(o, "samples", -1);
			t->has_phase = !json_is_null(ph);
			if (t->has_phase)
				t->phase_ns = (uint64_t)(json_number_value(ph) * 1e6);
		} else {
			struct tpage *p;
			const char *key;
			json_t *v;

			cr_assert_str_eq(type, "page");
			if (t->n == cap)
				t->p = realloc(t->p, (cap *= 2) * sizeof(*t->p));
			p = &t->p[t->n++];
			memset(p, 0, sizeof(*p));
			p->pid = (uint32_t)jint(o, "pid", -1);
			p->vaddr =
			    strtoull(json_string_value(json_object_get(o, "vaddr")), NULL, 16);
			p->pfn = (uint64_t)jint(o, "pfn", -1);
			p->size = (uint64_t)jint(o, "size", -1);
			p->node = (int)jint(o, "node", -1);
			p->owner = (int)jint(o, "owner", -2);
			p->owner2 = (int)jint(o, "owner2", -2);
			p->half = (int)jint(o, "half", 0);
			snprintf(p->cls, sizeof(p->cls), "%s",
				 json_string_value(json_object_get(o, "class")));
			p->hot = json_is_true(json_object_get(o, "hot"));
			p->samples = (uint64_t)jint(o, "samples", -1);
			json_object_foreach(json_object_get(o, "per_node"), key, v)
			    p->per_node[atoi(key)] = (uint64_t)json_integer_value(v);
		}
		json_decref(o);
	}
	free(text);
	cr_assert(t->n > 0 && t->start_ns > 0);
}

static int cmp_page(const void *a, const void *b)
{
	const struct tpage *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/* The page (pages sorted by pid, vaddr) that holds @vaddr of @pid, or NULL. */
static struct tpage *find_page(struct truth *t, uint32_t pid, uint64_t vaddr)
{
	size_t lo = 0, hi = t->n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		struct tpage key = { .pid = pid, .vaddr = vaddr };

		if (cmp_page(&t->p[mid], &key) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	if (t->p[lo].pid == pid && vaddr >= t->p[lo].vaddr &&
	    vaddr < t->p[lo].vaddr + t->p[lo].size)
		return &t->p[lo];
	return NULL;
}

/* Run ibsp-gen with @args into @name.data and @name.jsonl; fill @t and the samples. */
static size_t gen(const char *name, const char *args, struct truth *t, struct ibsp_sample **s)
{
	char cmd[2048], data[400], tpath[512], *out, *err;
	size_t n;
	int e;

	snprintf(data, sizeof(data), "%s", tmp_path(name));
	snprintf(tpath, sizeof(tpath), "%s.jsonl", data);
	snprintf(cmd, sizeof(cmd), "%s -o %s --truth %s %s", IBSP_GEN, data, tpath, args);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "%s failed: %s", cmd, err);
	free(out);
	free(err);
	load_truth(tpath, t);
	n = read_all_samples(data, s, &e);
	cr_assert_eq(e, 0, "reading %s: %d", data, e);
	qsort(t->p, t->n, sizeof(*t->p), cmp_page);
	return n;
}

/* Count the samples per page and accessor node (node of the CPU, from the file's topology). */
static void count_samples(const char *name, struct truth *t, const struct ibsp_sample *s, size_t n,
			  enum ibsp_sampler_kind kind)
{
	struct ibsp_perf_reader *r;
	const struct ibsp_topology *topo;
	struct ibsp_node_id *cpu_node;

	cr_assert_eq(ibsp_perf_reader__open(tmp_path(name), NULL, &r), 0);
	topo = ibsp_perf_reader__info(r)->topo;
	cr_assert_eq(ibsp_topology__cpu_node_map(topo, 256, &cpu_node), 0);
	for (size_t i = 0; i < n; i++) {
		struct tpage *p = find_page(t, s[i].pid, s[i].vaddr);

		cr_assert_eq(s[i].kind, kind);
		cr_assert_eq(s[i].drop, IBSP_DROP_NONE);
		cr_assert(s[i].flags & IBSP_S_VADDR_VALID, "sample %zu has no linear address", i);
		cr_assert(p, "sample %zu: pid %u vaddr %#llx is on no page of the truth", i,
			  s[i].pid, (unsigned long long)s[i].vaddr);
		cr_assert(s[i].cpu >= 0 && s[i].cpu < 256 && cpu_node[s[i].cpu].id >= 0);
		p->got[cpu_node[s[i].cpu].id]++;
		if (s[i].flags & IBSP_S_PADDR_VALID) {
			cr_assert_eq(ibsp_topology__node_of_paddr(topo, s[i].paddr).id, p->node,
				     "sample %zu: paddr %#llx", i, (unsigned long long)s[i].paddr);
			cr_assert_eq(s[i].paddr - p->pfn * 4096, s[i].vaddr - p->vaddr);
		}
	}
	free(cpu_node);
	ibsp_perf_reader__close(r);
}

Test(gen, reader_sees_exactly_the_truth)
{
	static const char *const runs[][2] = {
		{ "t1", "--topology 2s-cxl --pattern private:40,shared:20,cold:20,zipf:10,phase:10 "
			"--pages 3000 --samples 40000 --seed 7 --thp 0.2 --no-phys 0.1" },
		{ "t2",
		  "--topology 4s-2cxl --pattern private:50,phase:50 --phase-swap --pages 2000 "
		  "--samples 30000 --procs 3 --initial mixed --zen3" },
		{ "t3", "--topology 4s-2cxl --pattern private:40,shared:20,cold:20,zipf:20 "
			"--pages 2000 --samples 30000 --seed 9 --thp 0.2 --no-phys 0.1 --pebs" },
		{ "t4", "--topology 2s-cxl --pattern private:60,shared:20,cold:20 --pages 2000 "
			"--samples 30000 --seed 10 --thp 0.2 --no-phys 0.1 --perf-mem" },
	};

	for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
		struct ibsp_sample *s;
		struct truth t;
		uint64_t total = 0;
		size_t n = gen(runs[k][0], runs[k][1], &t, &s);

		cr_assert_eq(n, t.samples, "%s: read %zu samples, truth says %llu", runs[k][1], n,
			     (unsigned long long)t.samples);
		count_samples(runs[k][0], &t, s, n,
			      strstr(runs[k][1], "--pebs") ? IBSP_SAMPLER_PEBS : IBSP_SAMPLER_IBS);
		for (size_t i = 0; i < t.n; i++) {
			uint64_t sum = 0;

			for (int node = 0; node < MAX_NODES; node++) {
				cr_assert_eq(t.p[i].got[node], t.p[i].per_node[node],
					     "%s: page %#llx node %d: read %llu, truth %llu",
					     runs[k][1], (unsigned long long)t.p[i].vaddr, node,
					     (unsigned long long)t.p[i].got[node],
					     (unsigned long long)t.p[i].per_node[node]);
				sum += t.p[i].per_node[node];
			}
			cr_assert_eq(sum, t.p[i].samples);
			total += sum;
		}
		cr_assert_eq(total, n);
		free(s);
		free(t.p);
	}
}

Test(gen, perf_script_reads_every_sample)
{
	const char *perf = perf_path();
	struct ibsp_sample *s;
	struct truth t;
	char cmd[1024], *out, *err;
	size_t n, lines = 0;

	if (!perf)
		cr_skip_test("perf is not installed (apt-get install linux-perf)");
	n = gen("ps", "--topology 4s-2cxl --pattern private:70,cold:30 --pages 500 --samples 5000",
		&t, &s);
	snprintf(cmd, sizeof(cmd), "%s script -i %s -F tid,cpu,time", perf, tmp_path("ps"));
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "perf script failed: %s", err);
	cr_assert_str_empty(err, "perf script warned: %s", err);
	for (const char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	cr_assert_eq(lines, n, "perf script printed %zu samples, we read %zu", lines, n);
	free(out);
	free(err);
	free(s);
	free(t.p);
}

/*
 * perf's own decoder on the recordings without RAW registers (PEBS, and
 * IBS-op as `perf mem record` writes it): `perf script -F cpu,addr,phys_addr`
 * prints, line by line, the CPU, linear and physical address our reader
 * decodes (perf prints 0 for a sample without the physical address).
 */
Test(gen, perf_script_decodes_the_memory_fields_as_we_do)
{
	static const char *const forms[] = { "--pebs", "--perf-mem" };
	const char *perf = perf_path();

	if (!perf)
		cr_skip_test("perf is not installed (apt-get install linux-perf)");
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		struct ibsp_sample *s;
		struct truth t;
		char cmd[1024], args[512], *out, *err, *line;
		size_t n, i = 0;

		snprintf(args, sizeof(args),
			 "--topology 2s-cxl --pattern private:60,shared:20,cold:20 --pages 500 "
			 "--samples 5000 --thp 0.3 --no-phys 0.2 %s",
			 forms[f]);
		n = gen("pp", args, &t, &s);
		snprintf(cmd, sizeof(cmd), "%s script -i %s -F cpu,addr,phys_addr", perf,
			 tmp_path("pp"));
		cr_assert_eq(run_cmd(cmd, &out, &err), 0, "perf script failed: %s", err);
		cr_assert_str_empty(err, "%s: perf script warned: %s", forms[f], err);
		for (line = out; *line && i < n; i++) {
			unsigned int cpu;
			unsigned long long addr, phys;
			char *nl = strchr(line, '\n');

			cr_assert(nl, "%s: line %zu is cut short", forms[f], i);
			cr_assert_eq(sscanf(line, " [%u] %llx %llx", &cpu, &addr, &phys), 3,
				     "%s: line %zu: %.*s", forms[f], i, (int)(nl - line), line);
			cr_expect_eq(cpu, (unsigned int)s[i].cpu, "%s: sample %zu: cpu", forms[f],
				     i);
			cr_expect_eq(addr, s[i].vaddr, "%s: sample %zu: addr", forms[f], i);
			cr_expect_eq(phys, (s[i].flags & IBSP_S_PADDR_VALID) ? s[i].paddr : 0,
				     "%s: sample %zu: phys_addr", forms[f], i);
			line = nl + 1;
		}
		cr_expect_eq(i, n, "%s: perf script printed %zu samples, we read %zu", forms[f], i,
			     n);
		cr_expect_eq(*line, '\0', "%s: perf script printed more samples than we read",
			     forms[f]);
		free(out);
		free(err);
		free(s);
		free(t.p);
	}
}

/*
 * The same accesses as IBS-op samples with RAW registers, as IBS-op samples
 * with the kernel's memory fields only (perf mem record) and as PEBS samples:
 * a replay sees the same pages, accessors and addresses (2 MiB pages from
 * IBS's TLB bits or from PERF_SAMPLE_DATA_PAGE_SIZE), so every figure of
 * `replay --evaluate --json` is the same but for the file's name.
 */
Test(gen, every_form_replays_alike)
{
	static const char args[] =
	    "--topology 2s-cxl --pattern private:40,shared:20,cold:20,zipf:10,phase:10 "
	    "--pages 2000 --samples 60000 --duration-ms 20000 --seed 5 --thp 0.2 --no-phys 0.05";
	static const char *const forms[][2] = { { "eq-ibs", "" },
						{ "eq-pebs", " --pebs" },
						{ "eq-mem", " --perf-mem" } };
	json_t *doc[3];

	for (int k = 0; k < 3; k++) {
		char cmd[2048], data[400], json[440], *out, *err;

		snprintf(data, sizeof(data), "%s", tmp_path(forms[k][0]));
		snprintf(json, sizeof(json), "%s.json", data);
		snprintf(cmd, sizeof(cmd), "%s -o %s %s%s", IBSP_GEN, data, args, forms[k][1]);
		cr_assert_eq(run_cmd(cmd, &out, &err), 0, "%s: %s", cmd, err);
		free(out);
		free(err);
		snprintf(cmd, sizeof(cmd), "%s replay --no-progress --evaluate --json %s %s",
			 IBSP_CLI, json, data);
		cr_assert_eq(run_cmd(cmd, &out, &err), 0, "%s: %s", cmd, err);
		free(out);
		free(err);
		doc[k] = json_load_file(json, 0, NULL);
		cr_assert(doc[k], "%s", json);
		cr_assert_gt(json_integer_value(json_object_get(doc[k], "samples")), 50000, "%s",
			     forms[k][0]);
		json_object_del(doc[k], "file");
		if (k)
			cr_expect(json_equal(doc[0], doc[k]), "%s replays differently",
				  forms[k][0]);
	}
	for (int k = 0; k < 3; k++)
		json_decref(doc[k]);
}

Test(gen, bundled_example_regenerates_byte_for_byte)
{
	char cmd[2048], *out, *err;

	snprintf(cmd, sizeof(cmd), "%s -o %s --truth %s %s", IBSP_GEN, tmp_path("ex.data"),
		 tmp_path("ex.jsonl"), EXAMPLE_ARGS);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "%s: %s", cmd, err);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "cmp %s %s && cmp %s %s", FIXTURE("example-2s-cxl.data"),
		 tmp_path("ex.data"), FIXTURE("example-2s-cxl.truth.jsonl"), tmp_path("ex.jsonl"));
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "the example differs: %s%s", out, err);
	free(out);
	free(err);
}

/* Share of @part in @whole, asserted within @tol of @want. */
static void assert_share(const char *what, uint64_t part, uint64_t whole, double want, double tol)
{
	double got = whole ? (double)part / (double)whole : -1;

	cr_assert(got > want - tol && got < want + tol, "%s: %.4f, want %.4f +- %.4f", what, got,
		  want, tol);
}

Test(gen, pattern_properties)
{
	struct ibsp_sample *s;
	struct truth t;
	uint64_t own = 0, all = 0, per[MAX_NODES] = { 0 }, cold = 0, nophys = 0;
	size_t n;

	/* private: the owner makes --dominance of the accesses, the 3 other sockets the rest alike */
	n = gen("dom",
		"--topology 4s-2cxl --pattern private:100 --pages 400 --samples 200000 "
		"--dominance 0.8",
		&t, &s);
	for (size_t i = 0; i < t.n; i++)
		for (int node = 0; node < 4; node++) {
			if (node == t.p[i].owner)
				own += t.p[i].per_node[node];
			all += t.p[i].per_node[node];
		}
	assert_share("owner share", own, all, 0.8, 0.01);
	for (size_t i = 0; i < t.n; i++)
		for (int node = 0; node < 4; node++)
			if (node != t.p[i].owner)
				per[(node - t.p[i].owner + 4) % 4] += t.p[i].per_node[node];
	for (int d = 1; d < 4; d++)
		assert_share("non-owner share", per[d], all - own, 1.0 / 3, 0.02);
	cr_assert_eq(n, all);
	free(s);
	free(t.p);

	/* shared: every socket alike; initial lower: pages dealt between nodes 4 and 5 */
	n = gen("shared", "--topology 4s-2cxl --pattern shared:100 --pages 400 --samples 100000",
		&t, &s);
	memset(per, 0, sizeof(per));
	for (size_t i = 0; i < t.n; i++) {
		cr_assert_eq(t.p[i].owner, -1);
		cr_assert(t.p[i].node == 4 || t.p[i].node == 5);
		per[t.p[i].node]++;
		for (int node = 0; node < 4; node++)
			per[node] += t.p[i].per_node[node];
	}
	cr_assert_eq(per[4], 200);
	for (int node = 0; node < 4; node++)
		assert_share("shared node share", per[node], n, 0.25, 0.01);
	free(s);
	free(t.p);

	/* cold: --cold-weight of a hot page's rate; no-phys: that fraction lacks DcPhyAddrValid */
	n = gen("cold",
		"--pattern private:50,cold:50 --cold-weight 0.1 --pages 1000 "
		"--samples 100000 --no-phys 0.25",
		&t, &s);
	for (size_t i = 0; i < t.n; i++) {
		cr_assert_eq(t.p[i].hot, strcmp(t.p[i].cls, "cold") != 0);
		if (!t.p[i].hot)
			cold += t.p[i].samples;
	}
	assert_share("cold share", cold, n, 0.1 * 500 / (500 + 0.1 * 500), 0.01);
	for (size_t i = 0; i < n; i++)
		nophys += !(s[i].flags & IBSP_S_PADDR_VALID);
	assert_share("no-phys share", nophys, n, 0.25, 0.01);
	free(s);
	free(t.p);
}

Test(gen, phase_pages_are_hot_in_their_half_only)
{
	struct ibsp_sample *s;
	struct truth t;
	uint64_t owner_before = 0, owner2_after = 0, before = 0, after = 0;
	size_t n = gen("phase", "--pattern phase:100 --pages 200 --samples 20000", &t, &s);

	cr_assert(t.has_phase);
	cr_assert_eq(t.phase_ns, 5000000000ULL);
	for (size_t i = 0; i < n; i++) {
		struct tpage *p = find_page(&t, s[i].pid, s[i].vaddr);
		int late = s[i].time_ns - t.start_ns >= t.phase_ns;

		cr_assert(p && (p->half == 1 || p->half == 2));
		cr_assert_eq(p->half, 1 + late, "page %#llx of half %d sampled at %llu",
			     (unsigned long long)p->vaddr, p->half,
			     (unsigned long long)(s[i].time_ns - t.start_ns));
	}
	free(s);
	free(t.p);

	/* --phase-swap: hot throughout, the owner moves to the next socket at the midpoint */
	n = gen("swap", "--pattern phase:100 --phase-swap --pages 200 --samples 40000", &t, &s);
	for (size_t i = 0; i < n; i++) {
		struct tpage *p = find_page(&t, s[i].pid, s[i].vaddr);
		int node = s[i].cpu < 16 ? 0 : 1;

		cr_assert(p && p->owner2 == 1 - p->owner);
		if (s[i].time_ns - t.start_ns < t.phase_ns) {
			before++;
			owner_before += node == p->owner;
		} else {
			after++;
			owner2_after += node == p->owner2;
		}
	}
	assert_share("owner before the swap", owner_before, before, 0.95, 0.01);
	assert_share("owner2 after the swap", owner2_after, after, 0.95, 0.01);
	free(s);
	free(t.p);
}

Test(gen, thp_pages_decode_as_2m)
{
	struct ibsp_sample *s;
	struct truth t;
	uint64_t nr_thp = 0, thp_samples = 0;
	size_t n =
	    gen("thp", "--pattern private:100 --thp 0.5 --pages 400 --samples 20000", &t, &s);

	for (size_t i = 0; i < t.n; i++) {
		if (t.p[i].size != 2097152) {
			cr_assert_eq(t.p[i].size, 4096);
			continue;
		}
		nr_thp++;
		cr_assert_eq(t.p[i].vaddr % 2097152, 0);
		cr_assert_eq(t.p[i].pfn % 512, 0);
	}
	cr_assert_eq(nr_thp, 200);
	for (size_t i = 0; i < n; i++) {
		struct tpage *p = find_page(&t, s[i].pid, s[i].vaddr);

		cr_assert(p);
		if (p->size == 2097152) {
			thp_samples++;
			cr_assert_eq(s[i].page_shift, 21, "THP sample %zu: page_shift %u", i,
				     s[i].page_shift);
		} else {
			cr_assert(s[i].page_shift == 12 || s[i].page_shift == 0);
		}
	}
	assert_share("THP samples", thp_samples, n, 0.5, 0.03);
	free(s);
	free(t.p);
}

Test(gen, bad_options_exit_2_naming_the_option)
{
	static const struct {
		const char *args, *want;
	} rows[] = {
		{ "--pages abc", "--pages" },
		{ "--pages 0", "--pages" },
		{ "--samples -5", "--samples" },
		{ "--pattern private:50,bogus:50", "--pattern" },
		{ "--pattern private:50,shared:40", "sum to 90" },
		{ "--pattern private:50,private:50", "twice" },
		{ "--topology 3s", "--topology" },
		{ "--dominance 1.5", "--dominance" },
		{ "--zipf-s x", "--zipf-s" },
		{ "--thp", "--thp" },
		{ "--initial upper", "--initial" },
		{ "--free-mib 7=100", "--free-mib" },
		{ "--free-mib 0=999999", "--free-mib" },
		{ "--procs 0", "--procs" },
		{ "--bogus", "--bogus" },
		{ "--pattern phase:100 --pages 1", "--pages" },
		{ "--pattern private:100 --thp 1 --pages 100000", "--pages/--thp" },
	};
	char cmd[1024], *out, *err;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s -o %s %s", IBSP_GEN, tmp_path("bad.data"),
			 rows[i].args);
		cr_assert_eq(run_cmd(cmd, &out, &err), 2, "%s: not exit 2 (%s)", rows[i].args, err);
		cr_assert(strstr(err, rows[i].want), "%s: message '%s' does not name '%s'",
			  rows[i].args, err, rows[i].want);
		free(out);
		free(err);
	}
	snprintf(cmd, sizeof(cmd), "%s --pages 10", IBSP_GEN);
	cr_assert_eq(run_cmd(cmd, &out, &err), 2);
	cr_assert(strstr(err, "-o FILE"), "%s", err);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "%s --help", IBSP_GEN);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0);
	cr_assert(strstr(out, "--phase-swap") && strstr(out, "Example"), "%s", out);
	free(out);
	free(err);
}
