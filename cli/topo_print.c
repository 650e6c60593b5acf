// SPDX-License-Identifier: MIT
/* The parts of a topology that info and probe both show: distances and memory tiers. */
#include <stdio.h>

#include "cli.h"

static uint32_t distance(const struct ibsp_topology *t, uint32_t a, uint32_t b)
{
	return ibsp_topology__distance(t, ibsp_node_idx((int)a), ibsp_node_idx((int)b));
}

static int node_id(const struct ibsp_topology *t, uint32_t i)
{
	return ibsp_topology__node_id(t, ibsp_node_idx((int)i)).id;
}

void cli_topo_print_distances(const struct ibsp_topology *t)
{
	uint32_t nr = ibsp_topology__nr_nodes(t);

	if (!ibsp_topology__has_distances(t)) {
		printf("  node distances: not recorded\n");
		return;
	}
	printf("  node distances:\n  node");
	for (uint32_t b = 0; b < nr; b++)
		printf(" %4d", node_id(t, b));
	printf("\n");
	for (uint32_t a = 0; a < nr; a++) {
		printf("  %4d", node_id(t, a));
		for (uint32_t b = 0; b < nr; b++)
			printf(" %4u", distance(t, a, b));
		printf("\n");
	}
}

json_t *cli_topo_distance_json(const struct ibsp_topology *t)
{
	uint32_t nr;
	json_t *rows;

	if (!t || !ibsp_topology__has_distances(t))
		return json_null();
	nr = ibsp_topology__nr_nodes(t);
	rows = json_array();
	for (uint32_t a = 0; a < nr; a++) {
		json_t *row = json_array();

		for (uint32_t b = 0; b < nr; b++)
			json_array_append_new(row, json_integer(distance(t, a, b)));
		json_array_append_new(rows, row);
	}
	return rows;
}

json_t *cli_topo_tier_json(const struct ibsp_topology *t, struct ibsp_node_idx i)
{
	int32_t tier = ibsp_topology__tier(t, i);

	return tier >= 0 ? json_integer(tier) : json_null();
}
