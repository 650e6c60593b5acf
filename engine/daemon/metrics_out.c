// SPDX-License-Identifier: MIT
/*
 * The daemon's Prometheus outputs (metrics_out.h). The loop publishes a
 * text under a mutex; the server's thread copies it into each response;
 * the textfile writer thread wakes on a condition variable, writes
 * PATH.tmp and renames it over PATH, so that a reader sees a whole file.
 * MHD takes the listening socket over and closes it when it stops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ibsp/daemon.h"
#include "log_print.h"
#include "metrics_out.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct ibsp_metrics_out {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	char *text; /* the last published, or NULL */
	struct MHD_Daemon *mhd;
	char *path, *tmp; /* the textfile and its temp file, or NULL */
	pthread_t writer;
	bool writer_up, dirty, stop, warned;
};

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int ibsp_metrics_addr__parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
			     const char **why)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(spec, ':');
	char host[INET6_ADDRSTRLEN + 2];
	uint16_t port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	*why = "not a port 0-65535";
	if (parse_port(colon ? colon + 1 : spec, &port))
		return -EINVAL;
	*why = "not a numeric IPv4 address or [IPv6] address";
	hl = colon ? (size_t)(colon - spec) : 0;
	if (hl >= sizeof(host) || (colon && !hl))
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = 0;
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) != 1)
			return -EINVAL;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		*len = sizeof(*v6);
		return 0;
	}
	if (inet_pton(AF_INET, colon ? host : "127.0.0.1", &v4->sin_addr) != 1)
		return -EINVAL;
	v4->sin_family = AF_INET;
	v4->sin_port = htons(port);
	*len = sizeof(*v4);
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *body,
			     size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK ? CONTENT_TYPE : "text/plain");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The server thread: GET /metrics gets the last text; / says where to look. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **req)
{
	static const char index[] = "ibs-promote: the metrics are at /metrics\n";
	static const char none[] = "not found: the metrics are at /metrics\n";
	struct ibsp_metrics_out *m = cls;
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n", 17);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, index, sizeof(index) - 1);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, none, sizeof(none) - 1);
	pthread_mutex_lock(&m->lock);
	ret = reply(conn, MHD_HTTP_OK, m->text ? m->text : "", m->text ? strlen(m->text) : 0);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* A bound, listening socket, so that the error names the address (MHD's would not). */
static int listen_on(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *why;
	int fd, one = 1;

	if (ibsp_metrics_addr__parse(spec, &ss, &len, &why)) {
		pr_err("metrics-listen '%s': %s\n", spec, why);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64)) {
		int err = errno;

		pr_err("metrics-listen '%s': cannot listen: %s\n", spec, strerror(err));
		close(fd);
		return -err;
	}
	return fd;
}

static int start_server(struct ibsp_metrics_out *m, const char *spec)
{
	int fd = listen_on(spec);
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];

	if (fd < 0)
		return fd;
	getsockname(fd, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, 32U, MHD_OPTION_CONNECTION_TIMEOUT,
				  10U, MHD_OPTION_END);
	if (!m->mhd) { /* the socket is left open: whether MHD closed it is not said */
		pr_err("metrics-listen '%s': the HTTP server did not start\n", spec);
		return -EIO;
	}
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
	pr_info("metrics: http://%s%s%s:%u/metrics\n", ss.ss_family == AF_INET6 ? "[" : "", host,
		ss.ss_family == AF_INET6 ? "]" : "",
		ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port));
	return 0;
}

/* @text to the temp file, then renamed over the textfile. */
static int write_textfile(const struct ibsp_metrics_out *m, const char *text)
{
	size_t len = strlen(text), off = 0;
	int fd = open(m->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(m->tmp, m->path))
		err = -errno;
	if (err)
		unlink(m->tmp);
	return err;
}

/* Write whenever a new text comes, and once more at the stop if one is pending. */
static void *writer_main(void *arg)
{
	struct ibsp_metrics_out *m = arg;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		char *text;
		int err;

		while (!m->dirty && !m->stop)
			pthread_cond_wait(&m->wake, &m->lock);
		if (!m->dirty)
			break;
		m->dirty = false;
		text = m->text ? strdup(m->text) : NULL;
		pthread_mutex_unlock(&m->lock);
		err = text ? write_textfile(m, text) : -ENOMEM;
		free(text);
		pthread_mutex_lock(&m->lock);
		if (err && !m->warned)
			pr_warn("metrics-textfile %s: cannot write: %s\n", m->path, strerror(-err));
		m->warned |= err != 0;
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* The textfile's directory must take the temp file: checked now, so that the start fails. */
static int start_writer(struct ibsp_metrics_out *m, const char *path)
{
	int fd, ret;

	m->path = strdup(path);
	if (!m->path || asprintf(&m->tmp, "%s.tmp", path) < 0) {
		m->tmp = NULL;
		return -ENOMEM;
	}
	fd = open(m->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		pr_err("metrics-textfile %s: cannot create %s: %s\n", path, m->tmp, strerror(-ret));
		return ret;
	}
	close(fd);
	unlink(m->tmp);
	ret = -pthread_create(&m->writer, NULL, writer_main, m);
	m->writer_up = !ret;
	return ret;
}

int ibsp_metrics_out__open(const char *listen, const char *textfile, struct ibsp_metrics_out **out)
{
	struct ibsp_metrics_out *m = calloc(1, sizeof(*m));
	int ret = 0;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->wake, NULL);
	if (listen)
		ret = start_server(m, listen);
	if (!ret && textfile)
		ret = start_writer(m, textfile);
	if (ret) {
		ibsp_metrics_out__close(m);
		return ret;
	}
	*out = m;
	return 0;
}

void ibsp_metrics_out__publish(struct ibsp_metrics_out *m, char *text)
{
	if (!text) /* ENOMEM: the last text stays */
		return;
	pthread_mutex_lock(&m->lock);
	free(m->text);
	m->text = text;
	m->dirty = true;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
}

void ibsp_metrics_out__close(struct ibsp_metrics_out *m)
{
	if (!m)
		return;
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	if (m->writer_up) {
		pthread_mutex_lock(&m->lock);
		m->stop = true;
		pthread_cond_signal(&m->wake);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->writer, NULL);
	}
	pthread_cond_destroy(&m->wake);
	pthread_mutex_destroy(&m->lock);
	free(m->text);
	free(m->path);
	free(m->tmp);
	free(m);
}
