// SPDX-License-Identifier: MIT
/* ibs-promote probe: which samplers can run here, why the others cannot, topology, capabilities. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "ibsp/sampler.h"
#include "ibsp/topology.h"

static const char probe_usage[] =
    "Usage: ibs-promote probe [--json]\n"
    "\n"
    "List the samplers this host can run (IBS-op, PEBS, soft, hint) and why each missing\n"
    "one is missing, which one --sampler=auto takes, the NUMA topology (with node\n"
    "distances and memory tiers), and the capabilities this process holds. The hint\n"
    "sampler is tested for real: a page of probe's own is write-protected through\n"
    "/proc/self/clear_refs and its soft-dirty bit (pagemap bit 55) watched.\n"
    "\n"
    "  -j, --json   one JSON object instead of text\n"
    "\n"
    "Exit status: 0 a hardware sampler (IBS or PEBS) is available; 4 only the software\n"
    "samplers (soft, hint) are; 1 no sampler can run (or an error).\n";

#define NR_KINDS 4
static const enum ibsp_sampler_kind kinds[NR_KINDS] = { IBSP_SAMPLER_IBS, IBSP_SAMPLER_PEBS,
							IBSP_SAMPLER_SOFT, IBSP_SAMPLER_HINT };

/* What a sampler cannot see, for the coarse ones. */
static const char *limits_of(enum ibsp_sampler_kind k)
{
	if (k == IBSP_SAMPLER_SOFT)
		return "first touches and NUMA hinting faults only";
	if (k == IBSP_SAMPLER_HINT)
		return "writes only, at most one per page and scan (--scan-ms); needs process "
		       "targets; resets the targets' soft-dirty bits for the whole process "
		       "(disturbs CRIU and other users)";
	return NULL;
}

static json_t *caps_json(const struct ibsp_host_caps *c)
{
	json_t *j = json_object();

	json_object_set_new(j, "vendor", json_string(c->vendor));
	json_object_set_new(j, "family", json_integer(c->family));
	json_object_set_new(j, "model", json_integer(c->model));
	json_object_set_new(j, "stepping", json_integer(c->stepping));
	json_object_set_new(j, "hypervisor", json_boolean(c->hypervisor));
	json_object_set_new(j, "core_pmu", json_boolean(c->core_pmu));
	json_object_set_new(j, "ibs_caps", json_integer(c->ibs_caps));
	json_object_set_new(j, "libpfm4_pmu",
			    c->pfm_pmu[0] ? json_string(c->pfm_pmu) : json_null());
	json_object_set_new(
	    j, "perf_event_paranoid",
	    c->perf_event_paranoid == INT_MIN ? json_null() : json_integer(c->perf_event_paranoid));
	json_object_set_new(j, "cap_sys_admin", json_boolean(c->cap_sys_admin));
	json_object_set_new(j, "cap_perfmon", json_boolean(c->cap_perfmon));
	json_object_set_new(j, "cap_sys_ptrace", json_boolean(c->cap_sys_ptrace));
	json_object_set_new(j, "cap_sys_nice", json_boolean(c->cap_sys_nice));
	json_object_set_new(j, "cap_ipc_lock", json_boolean(c->cap_ipc_lock));
	return j;
}

static json_t *topo_json(const struct ibsp_topology *t)
{
	json_t *nodes = json_array();

	for (uint32_t i = 0; t && i < ibsp_topology__nr_nodes(t); i++) {
		struct ibsp_node_idx k = ibsp_node_idx((int)i);
		json_t *n = json_object();

		json_object_set_new(n, "node", json_integer(ibsp_topology__node_id(t, k).id));
		json_object_set_new(n, "cpus", json_string(ibsp_topology__cpulist(t, k)));
		json_object_set_new(n, "cpu_less", json_boolean(!ibsp_topology__nr_cpus(t, k)));
		json_object_set_new(n, "mem_total_kb",
				    json_integer((json_int_t)ibsp_topology__mem_total_kb(t, k)));
		json_object_set_new(n, "mem_free_kb",
				    json_integer((json_int_t)ibsp_topology__mem_free_kb(t, k)));
		json_object_set_new(n, "tier", cli_topo_tier_json(t, k));
		json_array_append_new(nodes, n);
	}
	return nodes;
}

/* What probe found. */
struct probe {
	struct ibsp_sampler_status st[NR_KINDS]; /* by kinds[] */
	enum ibsp_sampler_kind auto_kind;	 /* what --sampler=auto takes for process targets */
	struct ibsp_host_caps caps;
	struct ibsp_topology *topo; /* NULL when unreadable */
	int hw;			    /* a hardware sampler is available */
};

static void print_json(const struct probe *p)
{
	json_t *root = json_object(), *samplers = json_array();

	for (int i = 0; i < NR_KINDS; i++) {
		json_t *s = json_object();
		const char *lim = limits_of(kinds[i]);

		json_object_set_new(s, "sampler", json_string(ibsp_sampler_kind__name(kinds[i])));
		json_object_set_new(s, "available", json_boolean(p->st[i].available));
		json_object_set_new(s, "coarse", json_boolean(lim != NULL));
		json_object_set_new(s, "limits", lim ? json_string(lim) : json_null());
		json_object_set_new(s, "detail", json_string(p->st[i].detail));
		json_object_set_new(
		    s, "reason", p->st[i].available ? json_null() : json_string(p->st[i].reason));
		json_array_append_new(samplers, s);
	}
	json_object_set_new(root, "samplers", samplers);
	json_object_set_new(root, "auto",
			    p->auto_kind ? json_string(ibsp_sampler_kind__name(p->auto_kind))
					 : json_null());
	json_object_set_new(root, "nodes", topo_json(p->topo));
	json_object_set_new(root, "distance", cli_topo_distance_json(p->topo));
	json_object_set_new(root, "host", caps_json(&p->caps));
	json_dumpf(root, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(root);
}

static void print_topo(const struct ibsp_topology *topo)
{
	printf("topology:\n");
	for (uint32_t i = 0; topo && i < ibsp_topology__nr_nodes(topo); i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);
		bool cpus = ibsp_topology__nr_cpus(topo, n);

		printf("  node %d: cpus %s, %" PRIu64 " kB, %" PRIu64 " kB free",
		       ibsp_topology__node_id(topo, n).id,
		       cpus ? ibsp_topology__cpulist(topo, n) : "none",
		       ibsp_topology__mem_total_kb(topo, n), ibsp_topology__mem_free_kb(topo, n));
		if (ibsp_topology__tier(topo, n) >= 0)
			printf(", memory tier %d", ibsp_topology__tier(topo, n));
		printf("%s\n", cpus ? "" : " (CPU-less)");
	}
	if (topo)
		cli_topo_print_distances(topo);
}

static void print_host(const struct ibsp_host_caps *caps)
{
	printf("host:\n");
	printf("  cpu: %s family %#x model %#x stepping %u%s\n", caps->vendor, caps->family,
	       caps->model, caps->stepping, caps->hypervisor ? ", in a VM" : "");
	printf("  core PMU: %s; libpfm4 PMU: %s; IBS caps: %#x\n",
	       caps->core_pmu ? "present" : "absent", caps->pfm_pmu[0] ? caps->pfm_pmu : "none",
	       caps->ibs_caps);
	printf("  perf_event_paranoid: %d\n", caps->perf_event_paranoid);
	printf("  capabilities: CAP_SYS_ADMIN %s, CAP_PERFMON %s, CAP_SYS_PTRACE %s, "
	       "CAP_SYS_NICE %s, CAP_IPC_LOCK %s\n",
	       caps->cap_sys_admin ? "yes" : "no", caps->cap_perfmon ? "yes" : "no",
	       caps->cap_sys_ptrace ? "yes" : "no", caps->cap_sys_nice ? "yes" : "no",
	       caps->cap_ipc_lock ? "yes" : "no");
}

static void print_text(const struct probe *p)
{
	printf("samplers:\n");
	for (int i = 0; i < NR_KINDS; i++) {
		printf("  %-5s %-13s %s\n", ibsp_sampler_kind__name(kinds[i]),
		       p->st[i].available ? "available" : "unavailable",
		       p->st[i].available ? p->st[i].detail : p->st[i].reason);
		if (p->st[i].available && limits_of(kinds[i]))
			printf("  %-5s %-13s limits: %s\n", "", "", limits_of(kinds[i]));
	}
	printf("  auto: %s\n", p->auto_kind ? ibsp_sampler_kind__name(p->auto_kind)
					    : "none (no IBS, PEBS or hint faults)");
	print_topo(p->topo);
	print_host(&p->caps);
	if (!p->hw)
		printf("\nno hardware sampler: use 'run --sampler=hint --pid P' (writes only, "
		       "where available), '--sampler=soft' (first touches), or replay a "
		       "recording\n");
}

int cmd_probe(int argc, char **argv)
{
	struct probe p = { 0 };
	int c, as_json = 0, any = 0, rc;

	c = cli_json_opts(argc, argv, probe_usage, 0, &as_json);
	if (c >= 0)
		return c;
	ibsp_host_caps__read("/sys", &p.caps);
	for (int i = 0; i < NR_KINDS; i++) {
		ibsp_sampler__probe(kinds[i], NULL, &p.caps, &p.st[i]);
		p.hw |= p.st[i].available && !limits_of(kinds[i]);
		any |= p.st[i].available;
		/* auto's order: IBS, PEBS, then hint; soft only when asked for */
		if (p.st[i].available && !p.auto_kind && kinds[i] != IBSP_SAMPLER_SOFT)
			p.auto_kind = kinds[i];
	}
	if (ibsp_topology__from_host("/sys", &p.topo))
		p.topo = NULL;
	if (as_json)
		print_json(&p);
	else
		print_text(&p);
	ibsp_topology__delete(p.topo);
	rc = p.hw ? EXIT_OK : any ? EXIT_NOHW : EXIT_FAIL;
	return rc; /* main checks that stdout took it all */
}
