// SPDX-License-Identifier: MIT
/*
 * JSON telemetry lines (docs/telemetry.md), built with jansson. The last
 * stage of the data flow: it only reads counters the daemon collected.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ibsp/topology.h"
#include "telemetry_internal.h"

static int alloc_arrays(struct ibsp_telemetry_counts *c, uint32_t nr)
{
	size_t routes = nr ? (size_t)nr * nr : 1, nodes = nr ? nr : 1;

	c->route_planned = calloc(routes, sizeof(uint64_t));
	c->route_done = calloc(routes, sizeof(uint64_t));
	c->route_failed = calloc(routes, sizeof(uint64_t));
	c->free_bytes = calloc(nodes, sizeof(uint64_t));
	c->total_bytes = calloc(nodes, sizeof(uint64_t));
	c->watermark_bytes = calloc(nodes, sizeof(uint64_t));
	c->moves = calloc(IBSP_TELE_MOVE__MAX * routes, sizeof(*c->moves));
	return c->route_planned && c->route_done && c->route_failed && c->free_bytes &&
		       c->total_bytes && c->watermark_bytes && c->moves
		   ? 0
		   : -ENOMEM;
}

static void free_arrays(struct ibsp_telemetry_counts *c)
{
	free(c->route_planned);
	free(c->route_done);
	free(c->route_failed);
	free(c->free_bytes);
	free(c->total_bytes);
	free(c->watermark_bytes);
	free(c->moves);
}

/* Copy @src into @dst, arrays included (both sized for @nr nodes). */
static void copy_counts(struct ibsp_telemetry_counts *dst, const struct ibsp_telemetry_counts *src,
			uint32_t nr)
{
	struct ibsp_telemetry_counts keep = *dst;
	size_t routes = (size_t)nr * nr * sizeof(uint64_t);

	*dst = *src;
	dst->route_planned = keep.route_planned;
	dst->route_done = keep.route_done;
	dst->route_failed = keep.route_failed;
	dst->free_bytes = keep.free_bytes;
	dst->total_bytes = keep.total_bytes;
	dst->watermark_bytes = keep.watermark_bytes;
	dst->moves = keep.moves;
	memcpy(dst->moves, src->moves, IBSP_TELE_MOVE__MAX * (size_t)nr * nr * sizeof(*src->moves));
	memcpy(dst->route_planned, src->route_planned, routes);
	memcpy(dst->route_done, src->route_done, routes);
	memcpy(dst->route_failed, src->route_failed, routes);
	memcpy(dst->free_bytes, src->free_bytes, nr * sizeof(uint64_t));
	memcpy(dst->total_bytes, src->total_bytes, nr * sizeof(uint64_t));
	memcpy(dst->watermark_bytes, src->watermark_bytes, nr * sizeof(uint64_t));
}

struct ibsp_telemetry *ibsp_telemetry__new(const struct ibsp_topology *topo, const char *sampler,
					   bool dry_run)
{
	struct ibsp_telemetry *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->topo = topo;
	snprintf(t->sampler, sizeof(t->sampler), "%s", sampler);
	t->dry_run = dry_run;
	t->cur.noise = t->prev.noise = -1; /* not known until the engine says */
	t->cur.near_agreement = t->prev.near_agreement = -1;
	t->cur.owner_agreement = t->prev.owner_agreement = -1;
	if (alloc_arrays(&t->cur, ibsp_topology__nr_nodes(topo)) ||
	    alloc_arrays(&t->prev, ibsp_topology__nr_nodes(topo))) {
		ibsp_telemetry__delete(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void ibsp_telemetry__delete(struct ibsp_telemetry *t)
{
	if (!t)
		return;
	free_arrays(&t->cur);
	free_arrays(&t->prev);
	free(t);
}

struct ibsp_telemetry_counts *ibsp_telemetry__counts(struct ibsp_telemetry *t)
{
	return &t->cur;
}

/* A counter as it goes out: the change since the last line, or the total. */
#define D(field) json_integer((json_int_t)(c->field - (p ? p->field : 0)))

static json_t *by_names(const uint64_t *cur, const uint64_t *prev, int n, const char *(*name)(int),
			int first)
{
	json_t *o = json_object();

	for (int i = first; i < n; i++)
		json_object_set_new(o, name(i),
				    json_integer((json_int_t)(cur[i] - (prev ? prev[i] : 0))));
	return o;
}

/* Seconds to the microsecond: what the clocks and getrusage() resolve. */
static json_t *seconds(double s)
{
	return json_real(round(s * 1e6) / 1e6);
}

static const char *const rec_err_names[IBSP_REC_ERR__MAX] = {
	[IBSP_REC_ENOSPC] = "enospc", [IBSP_REC_EDQUOT] = "edquot", [IBSP_REC_EFBIG] = "efbig",
	[IBSP_REC_EIO] = "eio",	      [IBSP_REC_OTHER] = "other",
};

const char *ibsp_rec_err__name(enum ibsp_rec_err e)
{
	return (unsigned)e < IBSP_REC_ERR__MAX ? rec_err_names[e] : "?";
}

enum ibsp_rec_err ibsp_rec_err__from_errno(int err)
{
	switch (err) {
	case ENOSPC:
		return IBSP_REC_ENOSPC;
	case EDQUOT:
		return IBSP_REC_EDQUOT;
	case EFBIG:
		return IBSP_REC_EFBIG;
	case EIO:
		return IBSP_REC_EIO;
	default:
		return IBSP_REC_OTHER;
	}
}

static const char *rec_err_name(int i)
{
	return ibsp_rec_err__name((enum ibsp_rec_err)i);
}

static json_t *recording_json(const struct ibsp_telemetry_counts *c,
			      const struct ibsp_telemetry_counts *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "active", json_boolean(c->recording));
	json_object_set_new(o, "bytes", D(record_bytes));
	json_object_set_new(o, "write_errors",
			    by_names(c->record_errors, p ? p->record_errors : NULL,
				     IBSP_REC_ERR__MAX, rec_err_name, 0));
	return o;
}

static json_t *sampling_json(const struct ibsp_telemetry *t, const struct ibsp_telemetry_counts *c,
			     const struct ibsp_telemetry_counts *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "sampler", json_string(t->sampler));
	json_object_set_new(
	    o, "coarse", json_boolean(!strcmp(t->sampler, "soft") || !strcmp(t->sampler, "hint")));
	json_object_set_new(o, "samples", D(samples));
	json_object_set_new(o, "decoded", D(decoded));
	json_object_set_new(
	    o, "by_sampler",
	    by_names(c->by_sampler, p ? p->by_sampler : NULL, IBSP_SAMPLER__MAX, sampler_name, 1));
	json_object_set_new(o, "lost_records", D(lost_records));
	json_object_set_new(o, "lost", D(lost));
	json_object_set_new(o, "throttled", D(throttled));
	json_object_set_new(o, "drains", D(drains));
	json_object_set_new(o, "wakeups", D(wakeups));
	json_object_set_new(o, "drain_ms", json_integer(c->drain_ms));
	json_object_set_new(o, "ring_pages", json_integer(c->ring_pages));
	json_object_set_new(o, "scans", D(scans));
	json_object_set_new(o, "scan_s", seconds(c->scan_s - (p ? p->scan_s : 0)));
	json_object_set_new(
	    o, "dropped",
	    by_names(c->dropped, p ? p->dropped : NULL, IBSP_DROP__MAX, drop_name, 1));
	json_object_set_new(
	    o, "unresolved",
	    by_names(c->unresolved, p ? p->unresolved : NULL, IBSP_UNRES__MAX, unres_name, 0));
	return o;
}

/* Cells of the src -> final node matrix with pages in this line, as {src, dst, pages}. */
static json_t *matrix_json(const struct ibsp_telemetry_counts *c,
			   const struct ibsp_telemetry_counts *p)
{
	json_t *a = json_array();

	for (int s = 0; s < IBSP_MIG_MAX_NODES; s++) {
		for (int d = 0; d < IBSP_MIG_MAX_NODES; d++) {
			uint64_t n = c->matrix[s][d] - (p ? p->matrix[s][d] : 0);

			if (n)
				json_array_append_new(a,
						      json_pack("{s:i, s:i, s:I}", "src", s, "dst",
								d, "pages", (json_int_t)n));
		}
	}
	return a;
}

static json_t *promotions_json(const struct ibsp_telemetry *t,
			       const struct ibsp_telemetry_counts *c,
			       const struct ibsp_telemetry_counts *p)
{
	const struct ibsp_topology *topo = t->topo;
	uint32_t nr = ibsp_topology__nr_nodes(topo);
	json_t *o = json_object(), *routes = json_array();

	json_object_set_new(o, "dry_run", json_boolean(t->dry_run));
	json_object_set_new(o, "move_all", json_boolean(c->move_all));
	json_object_set_new(o, "considered", D(considered));
	json_object_set_new(o, "planned", D(planned));
	json_object_set_new(o, "planned_bytes", D(planned_bytes));
	json_object_set_new(o, "demoted", D(demoted));
	json_object_set_new(o, "demoted_bytes", D(demoted_bytes));
	json_object_set_new(o, "done", D(done));
	json_object_set_new(o, "done_bytes", D(done_bytes));
	json_object_set_new(o, "recovered", D(recovered));
	json_object_set_new(o, "failed", D(failed));
	for (uint32_t s = 0; s < nr; s++) {
		for (uint32_t d = 0; d < nr; d++) {
			size_t k = (size_t)s * nr + d;
			uint64_t pl = c->route_planned[k] - (p ? p->route_planned[k] : 0);
			uint64_t dn = c->route_done[k] - (p ? p->route_done[k] : 0);
			uint64_t fl = c->route_failed[k] - (p ? p->route_failed[k] : 0);

			if (!pl && !dn && !fl)
				continue;
			json_array_append_new(
			    routes,
			    json_pack("{s:i, s:i, s:I, s:I, s:I}", "src",
				      ibsp_topology__node_id(topo, ibsp_node_idx((int)s)).id, "dst",
				      ibsp_topology__node_id(topo, ibsp_node_idx((int)d)).id,
				      "planned", (json_int_t)pl, "done", (json_int_t)dn, "failed",
				      (json_int_t)fl));
		}
	}
	json_object_set_new(o, "by_route", routes);
	json_object_set_new(o, "matrix", matrix_json(c, p));
	json_object_set_new(
	    o, "by_errno",
	    by_names(c->by_errno, p ? p->by_errno : NULL, IBSP_MIG_ERR__MAX, err_name, 0));
	json_object_set_new(o, "rate_limited", D(rate_limited));
	json_object_set_new(o, "queue_full", D(queue_full));
	json_object_set_new(o, "abandoned", D(abandoned));
	json_object_set_new(o, "skips",
			    by_names(c->skips, p ? p->skips : NULL, IBSP_SKIP__MAX, skip_name, 0));
	return o;
}

char *ibsp_telemetry__line(struct ibsp_telemetry *t, enum ibsp_telemetry_kind kind, double time_s,
			   const char *end_reason, bool complete)
{
	static const char *const kinds[] = { "interval", "snapshot", "summary" };
	const struct ibsp_telemetry_counts *c = &t->cur;
	const struct ibsp_telemetry_counts *p = kind == IBSP_TELE_SUMMARY ? NULL : &t->prev;
	json_t *o = json_object(), *nodes = json_array(), *heat;
	struct timespec now;
	char wall[40], *line;

	clock_gettime(CLOCK_REALTIME, &now);
	strftime(wall, sizeof(wall), "%Y-%m-%dT%H:%M:%S", gmtime(&now.tv_sec));
	snprintf(wall + strlen(wall), sizeof(wall) - strlen(wall), ".%03ldZ",
		 now.tv_nsec / 1000000);
	json_object_set_new(o, "schema", json_integer(IBSP_TELEMETRY_SCHEMA));
	json_object_set_new(o, "type", json_string(kinds[kind]));
	json_object_set_new(o, "seq", json_integer((json_int_t)t->seq++));
	json_object_set_new(o, "time_s", seconds(time_s));
	json_object_set_new(o, "span_s", seconds(p ? time_s - t->last_time_s : time_s));
	json_object_set_new(o, "wall_time", json_string(wall));
	json_object_set_new(o, "sampling", sampling_json(t, c, p));
	heat = json_pack("{s:I, s:I, s:f, s:I, s:I}", "pages_tracked", (json_int_t)c->pages_tracked,
			 "evictions", (json_int_t)(c->evictions - (p ? p->evictions : 0)),
			 "threshold_samples", (double)c->threshold / IBSP_HEAT_ONE, "node_queries",
			 (json_int_t)(c->node_queries - (p ? p->node_queries : 0)),
			 "node_queries_failed",
			 (json_int_t)(c->node_queries_failed - (p ? p->node_queries_failed : 0)));
	json_object_set_new(heat, "noise", c->noise < 0 ? json_null() : json_real(c->noise));
	json_object_set_new(heat, "trusted_follow_samples",
			    c->trusted_follow ? json_integer(c->trusted_follow) : json_null());
	json_object_set_new(heat, "neighbour_agreement",
			    c->near_agreement < 0 ? json_null() : json_real(c->near_agreement));
	json_object_set_new(heat, "owner_agreement",
			    c->owner_agreement < 0 ? json_null() : json_real(c->owner_agreement));
	json_object_set_new(
	    heat, "thread_moves",
	    json_integer((json_int_t)(c->thread_moves - (p ? p->thread_moves : 0))));
	json_object_set_new(heat, "low_noise", json_boolean(c->low_noise));
	json_object_set_new(heat, "neighbours_believed", json_boolean(c->near_believed));
	json_object_set_new(heat, "owners_believed", json_boolean(c->owner_believed));
	json_object_set_new(o, "heat", heat);
	json_object_set_new(o, "promotions", promotions_json(t, c, p));
	for (uint32_t i = 0; i < ibsp_topology__nr_nodes(t->topo); i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);

		json_array_append_new(
		    nodes, json_pack("{s:i, s:b, s:I, s:I, s:I}", "node",
				     ibsp_topology__node_id(t->topo, n).id, "top_tier",
				     (int)ibsp_topology__is_top_tier(t->topo, n), "free_bytes",
				     (json_int_t)c->free_bytes[i], "total_bytes",
				     (json_int_t)c->total_bytes[i], "watermark_bytes",
				     (json_int_t)c->watermark_bytes[i]));
	}
	json_object_set_new(o, "nodes", nodes);
	json_object_set_new(
	    o, "targets",
	    json_pack("{s:i, s:i}", "pids", (int)c->targets, "exited", (int)c->targets_exited));
	json_object_set_new(o, "recording", recording_json(c, p));
	json_object_set_new(o, "cpu",
			    json_pack("{s:o, s:o}", "user_s",
				      seconds(c->cpu_user_s - (p ? p->cpu_user_s : 0)), "sys_s",
				      seconds(c->cpu_sys_s - (p ? p->cpu_sys_s : 0))));
	if (t->reload) {
		json_object_set_new(o, "reload", json_string(t->reload));
		t->reload = NULL;
	}
	if (kind == IBSP_TELE_SUMMARY) {
		json_object_set_new(o, "complete", json_boolean(complete));
		json_object_set_new(o, "end_reason",
				    json_string(end_reason ? end_reason : "error"));
	}
	/* 15 digits: the rounded seconds print as they are (0.5513, not 0.55130000000000001) */
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(o);
	if (line) {
		size_t n = strlen(line);
		char *l2 = realloc(line, n + 2);

		if (!l2) {
			free(line);
			return NULL;
		}
		l2[n] = '\n';
		l2[n + 1] = 0;
		line = l2;
	}
	if (p) {
		copy_counts(&t->prev, c, ibsp_topology__nr_nodes(t->topo));
		t->last_time_s = time_s;
	}
	return line;
}

void ibsp_telemetry__note_reload(struct ibsp_telemetry *t, bool applied)
{
	t->reload = applied ? "applied" : "failed";
}
