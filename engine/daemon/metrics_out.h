/* SPDX-License-Identifier: MIT */
/*
 * Where the daemon's Prometheus text goes (docs/metrics.md): an HTTP server
 * (libmicrohttpd, on its own thread) that answers GET /metrics with the
 * last text published, and a textfile for node_exporter, written by a
 * thread of its own (temp file + rename), so that the loop never waits on
 * a client or the disk. The loop publishes after every telemetry line.
 */
#ifndef IBSP_METRICS_OUT_H
#define IBSP_METRICS_OUT_H

struct ibsp_metrics_out;

/*
 * Listen on @listen ([ADDR:]PORT, or NULL) and/or write @textfile (or
 * NULL). Return 0 with *@out set, or a negative errno (logged, naming the
 * address or file).
 */
int ibsp_metrics_out__open(const char *listen, const char *textfile, struct ibsp_metrics_out **out);
/* The text to serve and write from now on; @text (malloc'd) is taken over; NULL: no change. */
void ibsp_metrics_out__publish(struct ibsp_metrics_out *m, char *text);
/* Write the last text to the textfile, stop the server and the writer; NULL is accepted. */
void ibsp_metrics_out__close(struct ibsp_metrics_out *m);

#endif
