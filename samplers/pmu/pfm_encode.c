// SPDX-License-Identifier: MIT
/* libpfm4 encoding: pfm_get_os_event_encoding(3) with PFM_OS_PERF_EVENT_EXT. */
#include <errno.h>
#include <string.h>

#include <perfmon/pfmlib_perf_event.h>

#include "log_print.h"
#include "pfm_encode.h"

int ibsp_pfm_encode(const char *event_str, struct ibsp_pfm_encoding *enc)
{
	struct perf_event_attr attr;
	pfm_perf_encode_arg_t arg;
	int ret;

	ret = pfm_initialize();
	if (ret != PFM_SUCCESS) {
		pr_err("libpfm4: cannot initialize: %s\n", pfm_strerror(ret));
		return -EINVAL;
	}
	memset(&attr, 0, sizeof(attr));
	memset(&arg, 0, sizeof(arg));
	arg.attr = &attr;
	arg.size = sizeof(arg);
	/* PLM0|PLM3: user and kernel; libpfm then sets exclude_hv. */
	ret =
	    pfm_get_os_event_encoding(event_str, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
	if (ret != PFM_SUCCESS) {
		pr_err("libpfm4: cannot encode '%s': %s\n", event_str, pfm_strerror(ret));
		return -EINVAL;
	}
	memset(enc, 0, sizeof(*enc));
	enc->type = attr.type;
	enc->config = attr.config;
	enc->config1 = attr.config1;
	enc->config2 = attr.config2;
	enc->sample_period = attr.sample_period;
	enc->precise_ip = (uint8_t)attr.precise_ip;
	enc->exclude_user = (uint8_t)attr.exclude_user;
	enc->exclude_kernel = (uint8_t)attr.exclude_kernel;
	enc->exclude_hv = (uint8_t)attr.exclude_hv;
	return 0;
}
