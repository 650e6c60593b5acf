// SPDX-License-Identifier: MIT
/* The parts of a topology that info and probe both show: distances and memory tiers. */
#include <stdio.h>

#include "cli.h"

void cli_topo_print_distances(const struct ibsp_topology *t)
{
	if (!t->distance) {
		printf("  node distances: not recorded\n");
		return;
	}
	printf("  node distances:\n  node");
	for (uint32_t b = 0; b < t->nr_nodes; b++)
		printf(" %4d", t->nodes[b].node.id);
	printf("\n");
	for (uint32_t a = 0; a < t->nr_nodes; a++) {
		printf("  %4d", t->nodes[a].node.id);
		for (uint32_t b = 0; b < t->nr_nodes; b++)
			printf(" %4u", t->distance[a * t->nr_nodes + b]);
		printf("\n");
	}
}

json_t *cli_topo_distance_json(const struct ibsp_topology *t)
{
	json_t *rows;

	if (!t || !t->distance)
		return json_null();
	rows = json_array();
	for (uint32_t a = 0; a < t->nr_nodes; a++) {
		json_t *row = json_array();

		for (uint32_t b = 0; b < t->nr_nodes; b++)
			json_array_append_new(row, json_integer(t->distance[a * t->nr_nodes + b]));
		json_array_append_new(rows, row);
	}
	return rows;
}

json_t *cli_topo_tier_json(const struct ibsp_topo_node *n)
{
	return n->tier >= 0 ? json_integer(n->tier) : json_null();
}
