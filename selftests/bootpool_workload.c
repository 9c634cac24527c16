// SPDX-License-Identifier: GPL-2.0
/*
 * bootpool_workload: make one domain issue a list of ALLOC requests.
 *
 *   bootpool_workload [-c cpu] [-p late|early|hybrid] [-f] [-l] SIZE[xCOUNT]...
 *
 * Pins itself to @cpu, sets the policy, allocates each SIZE (COUNT times),
 * frees everything when -f is given, prints one line per request and the
 * domain's STATS, and exits 0 when every request succeeded. The ftrace
 * tests use it as their workload; it is handy by hand in the test VM too.
 *
 * With -l it prints nothing per request and repeats the list, freeing
 * after each round, until a request fails; it then prints that failure on
 * stderr and exits 1. scripts/kexec-check keeps requests in flight so.
 */
#include "bootpool_util.h"

static const char * const source_names[] = { "?", "pool", "dionysos" };

static int print_usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-c cpu] [-p late|early|hybrid] [-f] [-l] SIZE[xCOUNT]...\n",
		prog);
	return 2;
}

/* The requests of one round, as the arguments list them. */
struct workload {
	char **sizes;
	int nr_sizes;
	int loop;
	int cpu;
	__u64 handles[4096];
	unsigned int nr;
};

/*
 * Make the requests of one round. Return: 0 when all succeeded; 1 when
 * one failed (with -l, at the first failure).
 */
static int run_round(struct workload *w, int fd)
{
	int i, ret = 0;

	for (i = 0; i < w->nr_sizes; i++) {
		unsigned long long size, count = 1;
		char *x;

		size = strtoull(w->sizes[i], &x, 0);
		if (*x == 'x')
			count = strtoull(x + 1, NULL, 0);
		while (count--) {
			struct bootpool_alloc a;
			int err = bp_alloc(fd, size, &a);

			if (err && w->loop) {
				fprintf(stderr, "bootpool_workload: cpu %d: ALLOC of %llu: %s\n",
					w->cpu, size, strerror(-err));
				return 1;
			}
			if (err) {
				printf("alloc size=%llu error=%s\n", size, strerror(-err));
				ret = 1;
				continue;
			}
			if (!w->loop) {
				printf("alloc size=%llu granted=%llu source=%s",
				       size, (unsigned long long)a.granted,
				       source_names[a.source < 3 ? a.source : 0]);
				printf(" cpu=%u served_cpu=%u hops=%u ipis=%u\n",
				       a.cpu, a.served_cpu, a.hops, a.ipis);
			}
			if (w->nr < ARRAY_SIZE(w->handles))
				w->handles[w->nr++] = a.handle;
		}
	}
	return ret;
}

/* Free what the rounds allocated. Return: 0, or 1 when a FREE failed. */
static int free_all(struct workload *w, int fd)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < w->nr; i++) {
		int err = bp_free(fd, w->handles[i]);

		if (err) {
			fprintf(stderr, "bootpool_workload: cpu %d: FREE: %s\n",
				w->cpu, strerror(-err));
			ret = 1;
		}
	}
	w->nr = 0;
	return ret;
}

int main(int argc, char **argv)
{
	static struct workload w = { .cpu = -1 };
	struct bootpool_stats st;
	int policy = -1, do_free = 0, opt, fd, ret;

	while ((opt = getopt(argc, argv, "c:p:fl")) != -1) {
		switch (opt) {
		case 'c':
			w.cpu = atoi(optarg);
			break;
		case 'p':
			policy = bp_policy_parse(optarg);
			if (policy < 0)
				return print_usage(argv[0]);
			break;
		case 'f':
			do_free = 1;
			break;
		case 'l':
			w.loop = 1;
			break;
		default:
			return print_usage(argv[0]);
		}
	}
	if (optind >= argc)
		return print_usage(argv[0]);
	w.sizes = argv + optind;
	w.nr_sizes = argc - optind;

	if (w.cpu >= 0 && bp_pin_cpu(w.cpu)) {
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

	do {
		ret = run_round(&w, fd);
		if (w.loop && !ret && free_all(&w, fd))
			ret = 1;
	} while (w.loop && !ret);
	if (do_free && free_all(&w, fd))
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
