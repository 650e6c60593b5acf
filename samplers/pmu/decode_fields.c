// SPDX-License-Identifier: MIT
/*
 * The fields every decoder fills the same way: the generic ones (time, task,
 * CPU, IP, period, page size) and the addresses the kernel reported. The
 * work is decode.h's, with the sample_type read from the sample.
 */
#include "decode.h"

void ibsp_decode_common(const struct ibsp_raw_sample *rs, struct ibsp_sample *s)
{
	ibsp_decode_common_t(rs->type, rs, s);
}

void ibsp_decode_addrs(const struct ibsp_raw_sample *rs, struct ibsp_sample *s)
{
	ibsp_decode_addrs_t(rs->type, rs, s);
}
