// SPDX-License-Identifier: GPL-2.0
/*
 * bootpool-example: open /dev/bootpool, allocate a block, map it, write to
 * it, free it and print the domain's statistics.
 *
 * Build it from the top of the tree with
 *   cc -static -I include/uapi -o bootpool-example <this file>
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/bootpool.h>

static const char * const source_name[] = { "?", "pool", "dionysos" };

static int alloc_and_use(int fd, __u64 size)
{
	struct bootpool_alloc a = { .size = size };
	struct bootpool_free f = { 0 };
	char *p;

	if (ioctl(fd, BOOTPOOL_IOC_ALLOC, &a)) {
		fprintf(stderr, "ALLOC %llu: %s\n", (unsigned long long)size,
			strerror(errno));
		return -1;
	}
	printf("ALLOC %llu: granted %llu from %s, cpu %u -> %u, %u hops, %u IPIs\n",
	       (unsigned long long)a.size, (unsigned long long)a.granted,
	       source_name[a.source], a.cpu, a.served_cpu, a.hops, a.ipis);

	/* Map the whole block: MAP_SHARED only, at the offset ALLOC gave. */
	p = mmap(NULL, a.granted, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 a.mmap_offset);
	if (p == MAP_FAILED) {
		perror("mmap");
		return -1;
	}
	if (p[0] != 0)		/* blocks are zeroed before they are handed out */
		fprintf(stderr, "block not zeroed\n");
	memset(p, 0xa5, a.granted);

	f.handle = a.handle;
	if (ioctl(fd, BOOTPOOL_IOC_FREE, &f)) {
		perror("FREE");
		return -1;
	}
	/* The mapping keeps its pages after FREE, until munmap(). */
	munmap(p, a.granted);
	return 0;
}

int main(void)
{
	struct bootpool_stats st;
	int fd;

	fd = open("/dev/bootpool", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("/dev/bootpool");
		return 1;
	}
	if (alloc_and_use(fd, 100) || alloc_and_use(fd, 5000)) {
		close(fd);
		return 1;
	}
	if (ioctl(fd, BOOTPOOL_IOC_STATS, &st)) {
		perror("STATS");
		close(fd);
		return 1;
	}
	printf("pool %u/%u pages used, switched %u (reason %u)\n",
	       st.pool_used, st.pool_pages, st.switched, st.switch_reason);
	printf("%llu pool and %llu remote allocs, footprint %llu bytes\n",
	       (unsigned long long)st.pool_allocs,
	       (unsigned long long)st.remote_allocs,
	       (unsigned long long)st.footprint_bytes);
	close(fd);
	return 0;
}
