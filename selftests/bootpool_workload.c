// SPDX-License-Identifier: GPL-2.0
/*
 * bootpool_workload: make one domain issue a list of ALLOC requests.
 *
 *   bootpool_workload [-c cpu] [-p late|early|hybrid] [-f] SIZE[xCOUNT]...
 *
 * Pins itself to @cpu, sets the policy, allocates each SIZE (COUNT times),
 * frees everything when -f is given, prints one line per request and the
 * domain's STATS, and exits 0 when every request succeeded. The ftrace
 * tests use it as their workload; it is handy by hand in the test VM too.
 */
#include "bootpool_util.h"

static const char * const source_names[] = { "?", "pool", "dionysos" };

static int print_usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-c cpu] [-p late|early|hybrid] [-f] SIZE[xCOUNT]...\n",
		prog);
	return 2;
}

int main(int argc, char **argv)
{
	__u64 handles[4096];
	unsigned int nr = 0, i;
	struct bootpool_stats st;
	int cpu = -1, policy = -1, do_free = 0, opt, fd, ret = 0;

	while ((opt = getopt(argc, argv, "c:p:f")) != -1) {
		switch (opt) {
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'p':
			policy = bp_policy_parse(optarg);
			if (policy < 0)
				return print_usage(argv[0]);
			break;
		case 'f':
			do_free = 1;
			break;
		default:
			return print_usage(argv[0]);
		}
	}
	if (optind >= argc)
		return print_usage(argv[0]);

	if (cpu >= 0 && bp_pin_cpu(cpu)) {
		perror("sched_setaffinity");
		return 1;
	}
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0) {
		perror(BOOTPOOL_DEV);
		return 1;
	}
	if (policy >= 0 && bp_set_policy(fd, policy)) {
		perror("SET_POLICY");
		return 1;
	}

	for (; optind < argc; optind++) {
		unsigned long long size, count = 1;
		char *x;

		size = strtoull(argv[optind], &x, 0);
		if (*x == 'x')
			count = strtoull(x + 1, NULL, 0);
		while (count--) {
			struct bootpool_alloc a;
			int err = bp_alloc(fd, size, &a);

			if (err) {
				printf("alloc size=%llu error=%s\n", size, strerror(-err));
				ret = 1;
				continue;
			}
			printf("alloc size=%llu granted=%llu source=%s",
			       size, (unsigned long long)a.granted,
			       source_names[a.source < 3 ? a.source : 0]);
			printf(" cpu=%u served_cpu=%u hops=%u ipis=%u\n",
			       a.cpu, a.served_cpu, a.hops, a.ipis);
			if (nr < ARRAY_SIZE(handles))
				handles[nr++] = a.handle;
		}
	}
	if (do_free)
		for (i = 0; i < nr; i++)
			if (bp_free(fd, handles[i]))
				ret = 1;

	if (bp_stats(fd, &st))
		return 1;
	printf("stats pool_used=%u switched=%u switch_reason=%u",
	       st.pool_used, st.switched, st.switch_reason);
	printf(" pool_allocs=%llu remote_allocs=%llu hops=%llu ipis=%llu footprint_bytes=%llu\n",
	       (unsigned long long)st.pool_allocs,
	       (unsigned long long)st.remote_allocs,
	       (unsigned long long)st.hops, (unsigned long long)st.ipis,
	       (unsigned long long)st.footprint_bytes);
	close(fd);
	return ret;
}
