// SPDX-License-Identifier: MIT
/*
 * A cursor over one feature section's payload: bounds-checked reads of
 * u32, u64, strings and counts, each failure logged with the file offset,
 * the feature and the field.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log_print.h"
#include "perf_features_internal.h"

int ibsp_fcur__bad(struct ibsp_fcur *c, const char *field, const char *why)
{
	pr_err("%s: offset %#" PRIx64 ": feature %s: field '%s' %s (section size %zu)\n", c->path,
	       c->file_off + c->pos, c->feat, field, why, c->len);
	return -EINVAL;
}

int ibsp_fcur__take(struct ibsp_fcur *c, const char *field, size_t n, const uint8_t **out)
{
	if (n > c->len - c->pos)
		return ibsp_fcur__bad(c, field, "runs past the end of the section");
	*out = c->p + c->pos;
	c->pos += n;
	return 0;
}

int ibsp_fcur__u32(struct ibsp_fcur *c, const char *field, uint32_t *v)
{
	const uint8_t *p;
	int ret = ibsp_fcur__take(c, field, 4, &p);

	if (!ret)
		memcpy(v, p, 4);
	return ret;
}

int ibsp_fcur__u64(struct ibsp_fcur *c, const char *field, uint64_t *v)
{
	const uint8_t *p;
	int ret = ibsp_fcur__take(c, field, 8, &p);

	if (!ret)
		memcpy(v, p, 8);
	return ret;
}

int ibsp_fcur__str(struct ibsp_fcur *c, const char *field, char **out)
{
	const uint8_t *p;
	uint32_t len;
	int ret;

	if ((ret = ibsp_fcur__u32(c, field, &len)) || (ret = ibsp_fcur__take(c, field, len, &p)))
		return ret;
	*out = strndup((const char *)p, len);
	return *out ? 0 : -ENOMEM;
}

/* A count of items of at least @min_each bytes each must fit in what is left. */
int ibsp_fcur__count(struct ibsp_fcur *c, const char *field, uint64_t nr, size_t min_each)
{
	if (nr > (c->len - c->pos) / min_each)
		return ibsp_fcur__bad(c, field, "count is larger than the section can hold");
	return 0;
}
