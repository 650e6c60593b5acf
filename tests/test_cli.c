// SPDX-License-Identifier: MIT
/*
 * The ibs-promote command's contract: --help with examples, the documented
 * exit codes, and errors that name the file, offset and field.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static int cli(const char *args, char **out, char **err)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), IBSP_CLI " %s", args);
	return run_cmd(cmd, out, err);
}

Test(cli, help_lists_commands_examples_and_exit_codes)
{
	static const char *const want[] = {
		"probe",     "record -o FILE", "info FILE",    "dump FILE",
		"Examples:", "Exit status:",   "3  malformed", "4  no hardware sampler"
	};
	char *out, *err;

	cr_assert_eq(cli("--help", &out, &err), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(out, want[i]), "--help lacks '%s'", want[i]);
	free(out);
	free(err);
	static const char *const sub[] = { "info --help", "dump --help", "probe --help",
					   "record --help" };

	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		cr_assert_eq(cli(sub[i], &out, &err), 0, "%s", sub[i]);
		cr_assert(strstr(out, "Usage: ibs-promote"), "%s: %s", sub[i], out);
		free(out);
		free(err);
	}
}

Test(cli, exit_codes)
{
	static const struct {
		const char *args;
		int rc;
		const char *in_err;
	} rows[] = {
		{ "", 2, "Usage:" },
		{ "frobnicate", 2, "unknown command 'frobnicate'" },
		{ "info", 2, "Usage: ibs-promote info" },
		{ "dump --limit x " IBSP_FIXTURE_DIR "/pf-task.data", 2, "--limit: 'x'" },
		{ "info /nonexistent/pf.data", 1, "/nonexistent/pf.data: cannot open" },
		{ "info " IBSP_FIXTURE_DIR "/pf-task.perf-script.txt", 3, "field 'magic'" },
	};
	char *out, *err;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = cli(rows[i].args, &out, &err);

		cr_assert_eq(rc, rows[i].rc, "'%s' exited %d, stderr: %s", rows[i].args, rc, err);
		cr_assert(strstr(err, rows[i].in_err), "'%s': stderr lacks '%s': %s", rows[i].args,
			  rows[i].in_err, err);
		free(out);
		free(err);
	}
}

Test(cli, bad_record_offset_is_named)
{
	size_t len;
	uint8_t *b = slurp(FIXTURE("pf-task.data"), &len);
	uint64_t doff;
	uint16_t big = 60000;
	const char *path = tmp_path("bad-size.data");
	char args[512], want[128], *out, *err;

	/* the first record's size runs past the data section */
	memcpy(&doff, b + 40, 8);
	memcpy(b + doff + 6, &big, 2);
	spit(path, b, len);
	snprintf(args, sizeof(args), "dump %s", path);
	cr_assert_eq(cli(args, &out, &err), 3);
	snprintf(want, sizeof(want), "%s: offset %#llx: record type", path,
		 (unsigned long long)doff);
	cr_assert(strstr(err, want), "stderr lacks '%s': %s", want, err);
	cr_assert(strstr(err, "field 'size' = 60000"), "stderr: %s", err);
	free(out);
	free(err);
	free(b);
}

Test(cli, dump_limit_and_fields)
{
	char *out, *err;
	int lines = 0;

	cr_assert_eq(cli("dump --limit 3 " IBSP_FIXTURE_DIR "/pf-system.data", &out, &err), 0);
	for (char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	cr_assert_eq(lines, 3);
	cr_assert(strstr(out, "\"sampler\":\"soft\"") && strstr(out, "\"coarse\":true") &&
		      strstr(out, "\"event\":\"page-faults\""),
		  "dump: %s", out);
	free(out);
	free(err);
}

/* probe --json: this host's nodes with free memory and tier, and the distance matrix. */
Test(cli, probe_json_topology)
{
	struct ibsp_topology *t = NULL;
	json_t *j, *nodes, *d;
	char *out, *err;
	int rc = cli("probe --json", &out, &err);

	cr_assert(rc == 0 || rc == 4, "probe exited %d: %s", rc, err);
	j = json_loads(out, 0, NULL);
	cr_assert(j, "probe --json: %s", out);
	cr_assert_eq(ibsp_topology__from_host("/sys", &t), 0);
	nodes = json_object_get(j, "nodes");
	d = json_object_get(j, "distance");
	uint32_t nr = ibsp_topology__nr_nodes(t);

	cr_assert_eq(json_array_size(nodes), nr);
	cr_assert_eq(json_array_size(d), nr, "distance: %s", out);
	for (uint32_t a = 0; a < nr; a++) {
		json_t *n = json_array_get(nodes, a), *tier = json_object_get(n, "tier");
		struct ibsp_node_idx ia = ibsp_node_idx((int)a);

		cr_assert_eq(json_integer_value(json_object_get(n, "node")),
			     ibsp_topology__node_id(t, ia).id);
		cr_assert(json_integer_value(json_object_get(n, "mem_free_kb")) > 0);
		if (ibsp_topology__tier(t, ia) < 0)
			cr_assert(json_is_null(tier));
		else
			cr_assert_eq(json_integer_value(tier), ibsp_topology__tier(t, ia));
		for (uint32_t b = 0; b < nr; b++)
			cr_assert_eq(json_integer_value(json_array_get(json_array_get(d, a), b)),
				     ibsp_topology__distance(t, ia, ibsp_node_idx((int)b)));
	}
	json_decref(j);
	ibsp_topology__delete(t);
	free(out);
	free(err);
}
