# SPDX-License-Identifier: GPL-2.0
#
# What a domain replaying a trace should cost, computed from the trace file
# alone: the bootpool_demo_test.sh's model of the replay, written apart
# from bootpool-demo so that each checks the other. It reads the trace
# format of userspace-demo/README.md and follows the rules written there:
# what the domain asks (on its pool a refused request is asked again
# smaller; once switched it is asked whole, and heap growth goes through a
# morecore frame of !large_page bytes), and where the module serves it
# (policy.h: late serves a request of at most a page from a non-empty
# pool and switches on the first one it cannot serve; early has switched
# at attach; hybrid never switches; upstream is late and switches at
# !switch).
#
#   awk -v rule=late|early|upstream|hybrid [-v pool=256] [-v literal=1]
#       [-v extra=K] -f bootpool_trace_model.awk TRACE
#
# literal=1 asks SIZE of SIZE/FALLBACK on the pool (--no-fallback); extra=K
# inserts K page-sized heap growths before the first request above a page
# that has no fallback, or before !main (--sweep-heap). Prints one
# "name value" line per figure, per domain, footprints in KiB.

function bytes(s) {
	if (s ~ /[Kk]$/)
		return substr(s, 1, length(s) - 1) * 1024
	if (s ~ /[Mm]$/)
		return substr(s, 1, length(s) - 1) * 1048576
	return s + 0
}

# What Linux grants: a power-of-two number of pages.
function linux_grant(b,   pages, o) {
	pages = int((b + 4095) / 4096)
	for (o = 1; o < pages; o *= 2)
		;
	return o * 4096
}

# What Barrelfish's mem_serv grants: a power of two from 1 KiB.
function bf_grant(b,   g) {
	for (g = 1024; g < b; g *= 2)
		;
	return g
}

BEGIN {
	n = 0
	sw = -1
	mn = -1
	lp = 0
	if (pool == "")
		pool = 256
}

{ sub(/#.*/, "") }
NF == 0 { next }
$1 == "!switch" { sw = n; next }
$1 == "!main" { mn = n; next }
$1 == "!large_page" { lp = bytes($2); next }
$1 ~ /^!/ { next }
{
	h = 0
	tok = $1
	if (tok == "heap") {
		h = 1
		tok = $2
	}
	k = split(tok, part, "/")
	sz[n] = bytes(part[1])
	fb[n] = k == 2 ? bytes(part[2]) : 0
	hp[n] = h
	n++
}

END {
	if (mn < 0)
		mn = n
	# The extra heap pages, where --sweep-heap puts them.
	at = mn
	for (i = 0; i < n; i++)
		if (sz[i] > 4096 && !fb[i]) {
			at = i
			break
		}
	m = 0
	for (i = 0; i <= n; i++) {
		if (i == at)
			for (j = 0; j < extra; j++) {
				s2[m] = 4096; f2[m] = 0; h2[m] = 1; m++
			}
		if (i < n) {
			s2[m] = sz[i]; f2[m] = fb[i]; h2[m] = hp[i]; m++
		}
	}
	if (sw >= at && sw >= 0)
		sw += extra
	if (mn >= at)
		mn += extra

	switched = rule == "early"
	reason = switched ? "early" : "none"
	free = pool
	left = 0
	for (i = 0; i <= m; i++) {
		if (i == mn) {
			st_preq = preq; st_dreq = dreq
			st_lin = lin; st_bf = bf
		}
		if (i == m)
			break
		if (i == sw && rule == "upstream" && !switched) {
			switched = 1
			reason = "requested"
		}
		# What the domain asks.
		if (!switched) {
			ask = s2[i]
			if (f2[i] && !literal) {
				ask = f2[i]
				retried++
			}
		} else if (h2[i] && lp) {
			if (s2[i] <= left) {
				left -= s2[i]
				absorbed++
				continue
			}
			ask = int((s2[i] + lp - 1) / lp) * lp
			left += ask - s2[i]
		} else {
			ask = s2[i]
		}
		# Where the module serves it.
		if (rule == "hybrid")
			to_pool = ask <= 4096 && free > 0
		else if (switched)
			to_pool = 0
		else if (ask > 4096 || free == 0) {
			switched = 1
			reason = ask > 4096 ? "oversize" : "exhausted"
			to_pool = 0
		} else
			to_pool = 1
		if (to_pool) {
			free--
			preq++
		} else {
			dreq++
			lin += linux_grant(ask)
			bf += bf_grant(ask)
		}
	}
	printf "pool_requests %d\n", preq
	printf "dionysos_requests %d\n", dreq
	printf "startup_pool_requests %d\n", st_preq
	printf "startup_dionysos_requests %d\n", st_dreq
	printf "startup_kib %.1f\n", (pool * 4096 + st_lin) / 1024
	printf "startup_bf_kib %.1f\n", (pool * 4096 + st_bf) / 1024
	printf "end_kib %.1f\n", (pool * 4096 + lin) / 1024
	printf "end_bf_kib %.1f\n", (pool * 4096 + bf) / 1024
	printf "absorbed_requests %d\n", absorbed
	printf "retried_requests %d\n", retried
	printf "switch_reason %s\n", reason
}
