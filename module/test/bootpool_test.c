// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: bootpool_test, test-only helpers
 *
 * Never loaded outside tests and benchmarks. /sys/kernel/debug/bootpool_test/
 * holds:
 *
 * - ``warn``: writing 1 triggers a WARN, so that the test VM's detection
 *   of kernel warnings can itself be tested.
 * - ``floors_run``: writing a number of rounds N (1 to 1000000)
 *   measures, from the writer's CPU towards CPU ``cpu`` (a module
 *   parameter, writable at run time; set it to bootpool's
 *   ``dionysos_cpu``), what the kernel itself needs for the paths
 *   bootpool takes:
 *
 *   - ``ipi``: the round trip of smp_call_function_single(wait=1) to an
 *     empty function on ``cpu``;
 *   - ``wake``: waking a kthread bound to ``cpu`` and waiting, asleep,
 *     until it answers through a completion;
 *   - ``page``: alloc_page() and __free_page() on the writer's CPU.
 *
 *   Each is timed per round with ktime_get_ns() after N/10 warm-up rounds.
 *   The write fails with EINVAL when the writer runs on ``cpu`` itself
 *   (pin it elsewhere first) or ``cpu`` is not online.
 * - ``floors``: the last measurement, as ``<name>_median_ns``,
 *   ``<name>_p99_ns`` and ``<name>_rounds`` lines, plus ``from_cpu`` and
 *   ``to_cpu``.
 * - ``ipi_once``: each read makes one round of the ``ipi`` floor and
 *   returns its time in ns, one line. Rounds made back to back, as
 *   ``floors_run`` makes them, often reach ``cpu`` before it has gone idle
 *   again; a request of bootpool's, which comes one per system call, finds
 *   it idle. Reading ``ipi_once`` once per round from user space measures
 *   the round trip under the same conditions. The read fails like a write
 *   to ``floors_run``. Each open file has its own target: ``cpu`` as it
 *   was at open, or the CPU number last written to that file (``EINVAL``
 *   for one that is not possible), so that processes can measure round
 *   trips to different CPUs at once.
 *
 * These are the floors the benchmark (bench/) divides bootpool's own
 * figures by: under emulation only ratios measured in one boot mean
 * anything.
 *
 * - ``memalloc_spin``: writing N (1 to 10000) keeps the writer in the
 *   kernel for N ms with PF_MEMALLOC set and interrupts on, as a task in
 *   reclaim runs: an IPI handler on its CPU finds it as ``current``.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

#define BOOTPOOL_TEST_MAX_ROUNDS	1000000

static unsigned int bootpool_test_cpu;
module_param_named(cpu, bootpool_test_cpu, uint, 0644);
MODULE_PARM_DESC(cpu, "CPU the floors are measured towards (default 0)");

/**
 * struct bootpool_test_floor - one measured floor
 * @name: key prefix in the ``floors`` file.
 * @median_ns: median of one round, in ns.
 * @p99_ns: 99th percentile of one round, in ns.
 * @rounds: rounds measured (after the warm-up).
 */
struct bootpool_test_floor {
	const char *name;
	u64 median_ns;
	u64 p99_ns;
	unsigned int rounds;
};

enum { FLOOR_IPI, FLOOR_WAKE, FLOOR_PAGE, NR_FLOORS };

/* Protects the results below and serializes measurements. */
static DEFINE_MUTEX(bootpool_test_lock);
static struct bootpool_test_floor bootpool_test_floors[NR_FLOORS] = {
	[FLOOR_IPI]	= { .name = "ipi" },
	[FLOOR_WAKE]	= { .name = "wake" },
	[FLOOR_PAGE]	= { .name = "page" },
};

static int bootpool_test_from_cpu = -1;
static int bootpool_test_to_cpu = -1;

static struct dentry *bootpool_test_dir;

/**
 * struct bootpool_test_echo - the kthread the wake floor talks to
 * @ask: completed by the measuring task to wake the thread.
 * @answer: completed by the thread once it runs.
 * @done: set before the last @ask: the thread returns instead of answering.
 */
struct bootpool_test_echo {
	struct completion ask;
	struct completion answer;
	bool done;
};

static int bootpool_test_warn_set(void *data, u64 val)
{
	if (val != 1)
		return -EINVAL;
	WARN(1, "bootpool_test: warning requested through debugfs\n");
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(bootpool_test_warn_fops, NULL,
			 bootpool_test_warn_set, "%llu\n");

static int bootpool_test_memalloc_spin_set(void *data, u64 ms)
{
	unsigned long end;
	unsigned int flags;

	if (!ms || ms > 10000)
		return -EINVAL;
	end = jiffies + msecs_to_jiffies(ms);
	flags = memalloc_noreclaim_save();
	while (time_before(jiffies, end)) {
		cpu_relax();
		cond_resched();
	}
	memalloc_noreclaim_restore(flags);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(bootpool_test_memalloc_spin_fops, NULL,
			 bootpool_test_memalloc_spin_set, "%llu\n");

static int bootpool_test_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void bootpool_test_record(struct bootpool_test_floor *f, u64 *ns,
				 unsigned int n)
{
	sort(ns, n, sizeof(*ns), bootpool_test_cmp_u64, NULL);
	f->median_ns = ns[n / 2];
	f->p99_ns = ns[min(n - 1, n * 99 / 100)];
	f->rounds = n;
}

static void bootpool_test_nop(void *unused)
{
}

static int bootpool_test_echo_fn(void *data)
{
	struct bootpool_test_echo *echo = data;

	for (;;) {
		wait_for_completion(&echo->ask);
		if (READ_ONCE(echo->done))
			return 0;
		complete(&echo->answer);
	}
}

/*
 * One round trip of smp_call_function_single(wait=1) to @cpu, timed.
 * Context: process context; preemption is disabled for the round.
 * Return: the round trip in ns, -EINVAL when the caller runs on @cpu, or
 * an error of smp_call_function_single().
 */
static s64 bootpool_test_ipi_round(int cpu)
{
	s64 ret;
	u64 t0;

	if (get_cpu() == cpu) {
		put_cpu();
		return -EINVAL;
	}
	t0 = ktime_get_ns();
	ret = smp_call_function_single(cpu, bootpool_test_nop, NULL, 1);
	if (!ret)
		ret = ktime_get_ns() - t0;
	put_cpu();
	return ret;
}

/**
 * bootpool_test_measure_ipi() - time smp_call_function_single(wait=1)
 * @cpu: the target CPU, not the caller's.
 * @ns: one slot per round, @warm + @n.
 * @warm: warm-up rounds, not recorded.
 * @n: rounds recorded.
 *
 * Context: process context; preemption is disabled for one round at a time.
 * Return: 0, or a negative errno (see bootpool_test_ipi_round()).
 */
static int bootpool_test_measure_ipi(int cpu, u64 *ns, unsigned int warm,
				     unsigned int n)
{
	unsigned int i;
	s64 ret;

	for (i = 0; i < warm + n; i++) {
		ret = bootpool_test_ipi_round(cpu);
		if (ret < 0)
			return ret;
		ns[i] = ret;
		cond_resched();
	}
	bootpool_test_record(&bootpool_test_floors[FLOOR_IPI], ns + warm, n);
	return 0;
}

/**
 * bootpool_test_measure_wake() - time waking a kthread bound to @cpu
 * @cpu: the kthread's CPU.
 * @ns: one slot per round, @warm + @n.
 * @warm: warm-up rounds, not recorded.
 * @n: rounds recorded.
 *
 * A round completes the thread's @ask and sleeps on its @answer: one
 * wake-up towards @cpu and one back, with both context switches.
 *
 * Context: process context, sleeps.
 * Return: 0, or a negative errno when the thread cannot be created.
 */
static int bootpool_test_measure_wake(int cpu, u64 *ns, unsigned int warm,
				      unsigned int n)
{
	struct bootpool_test_echo echo;
	struct task_struct *task;
	unsigned int i;
	u64 t0;

	init_completion(&echo.ask);
	init_completion(&echo.answer);
	echo.done = false;
	task = kthread_create_on_cpu(bootpool_test_echo_fn, &echo, cpu,
				     "bootpool_echo/%u");
	if (IS_ERR(task))
		return PTR_ERR(task);
	/* The thread may return before kthread_stop(): hold its task. */
	get_task_struct(task);
	wake_up_process(task);

	for (i = 0; i < warm + n; i++) {
		t0 = ktime_get_ns();
		complete(&echo.ask);
		wait_for_completion(&echo.answer);
		ns[i] = ktime_get_ns() - t0;
	}
	WRITE_ONCE(echo.done, true);
	complete(&echo.ask);
	kthread_stop(task);
	put_task_struct(task);
	bootpool_test_record(&bootpool_test_floors[FLOOR_WAKE], ns + warm, n);
	return 0;
}

/* The file's target is kept in its private_data. */
static int bootpool_test_ipi_once_open(struct inode *inode, struct file *file)
{
	file->private_data = (void *)(uintptr_t)READ_ONCE(bootpool_test_cpu);
	return 0;
}

static ssize_t bootpool_test_ipi_once_write(struct file *file,
					    const char __user *buf, size_t len,
					    loff_t *ppos)
{
	unsigned int cpu;
	int ret;

	ret = kstrtouint_from_user(buf, len, 0, &cpu);
	if (ret)
		return ret;
	if (cpu >= nr_cpu_ids)
		return -EINVAL;
	file->private_data = (void *)(uintptr_t)cpu;
	return len;
}

static ssize_t bootpool_test_ipi_once_read(struct file *file,
					   char __user *buf, size_t len,
					   loff_t *ppos)
{
	unsigned int cpu = (uintptr_t)file->private_data;
	char out[24];
	s64 ns;
	int n;

	if (*ppos)
		return 0;
	if (cpu >= nr_cpu_ids || !cpu_online(cpu))
		return -EINVAL;
	ns = bootpool_test_ipi_round(cpu);
	if (ns < 0)
		return ns;
	n = scnprintf(out, sizeof(out), "%lld\n", ns);
	return simple_read_from_buffer(buf, len, ppos, out, n);
}

static const struct file_operations bootpool_test_ipi_once_fops = {
	.owner		= THIS_MODULE,
	.open		= bootpool_test_ipi_once_open,
	.read		= bootpool_test_ipi_once_read,
	.write		= bootpool_test_ipi_once_write,
	.llseek		= default_llseek,
};

/* alloc_page() + __free_page() on the caller's CPU. Context: may sleep. */
static int bootpool_test_measure_page(u64 *ns, unsigned int warm,
				      unsigned int n)
{
	struct page *page;
	unsigned int i;
	u64 t0;

	for (i = 0; i < warm + n; i++) {
		t0 = ktime_get_ns();
		page = alloc_page(GFP_KERNEL);
		if (!page)
			return -ENOMEM;
		__free_page(page);
		ns[i] = ktime_get_ns() - t0;
		cond_resched();
	}
	bootpool_test_record(&bootpool_test_floors[FLOOR_PAGE], ns + warm, n);
	return 0;
}

/**
 * bootpool_test_floors_run() - measure every floor
 * @rounds: rounds per floor, after a tenth as many warm-up rounds.
 *
 * Context: process context, sleeps; takes bootpool_test_lock.
 * Return: 0; -EINVAL for a bad @rounds, an offline ``cpu`` or a caller on
 * ``cpu``; -ENOMEM; or an error of smp_call_function_single().
 */
static int bootpool_test_floors_run(u64 rounds)
{
	int cpu = READ_ONCE(bootpool_test_cpu);
	unsigned int warm, n;
	u64 *ns;
	int ret;

	if (!rounds || rounds > BOOTPOOL_TEST_MAX_ROUNDS)
		return -EINVAL;
	if (cpu >= nr_cpu_ids || !cpu_online(cpu) ||
	    raw_smp_processor_id() == cpu)
		return -EINVAL;
	n = rounds;
	warm = max(n / 10, 1U);
	ns = vmalloc_array(warm + n, sizeof(*ns));
	if (!ns)
		return -ENOMEM;

	mutex_lock(&bootpool_test_lock);
	bootpool_test_from_cpu = raw_smp_processor_id();
	bootpool_test_to_cpu = cpu;
	ret = bootpool_test_measure_ipi(cpu, ns, warm, n);
	if (!ret)
		ret = bootpool_test_measure_wake(cpu, ns, warm, n);
	if (!ret)
		ret = bootpool_test_measure_page(ns, warm, n);
	mutex_unlock(&bootpool_test_lock);
	vfree(ns);
	return ret;
}

static int bootpool_test_floors_show(struct seq_file *m, void *unused)
{
	const struct bootpool_test_floor *f;
	int i;

	mutex_lock(&bootpool_test_lock);
	seq_printf(m, "from_cpu %d\nto_cpu %d\n", bootpool_test_from_cpu,
		   bootpool_test_to_cpu);
	for (i = 0; i < NR_FLOORS; i++) {
		f = &bootpool_test_floors[i];
		seq_printf(m, "%s_median_ns %llu\n", f->name, f->median_ns);
		seq_printf(m, "%s_p99_ns %llu\n", f->name, f->p99_ns);
		seq_printf(m, "%s_rounds %u\n", f->name, f->rounds);
	}
	mutex_unlock(&bootpool_test_lock);
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(bootpool_test_floors);

static int bootpool_test_floors_run_set(void *data, u64 rounds)
{
	return bootpool_test_floors_run(rounds);
}
DEFINE_DEBUGFS_ATTRIBUTE(bootpool_test_floors_run_fops, NULL,
			 bootpool_test_floors_run_set, "%llu\n");

/* The files of bootpool_test/ in debugfs. */
static const struct {
	const char *name;
	umode_t mode;
	const struct file_operations *fops;
} bootpool_test_files[] = {
	{ "warn", 0200, &bootpool_test_warn_fops },
	{ "floors", 0400, &bootpool_test_floors_fops },
	{ "floors_run", 0200, &bootpool_test_floors_run_fops },
	{ "ipi_once", 0600, &bootpool_test_ipi_once_fops },
	{ "memalloc_spin", 0200, &bootpool_test_memalloc_spin_fops },
};

static int __init bootpool_test_init(void)
{
	int i;

	bootpool_test_dir = debugfs_create_dir("bootpool_test", NULL);
	/*
	 * Each file's operations have this module as owner, so an open file
	 * pins it, and the files go only when it is unloaded: none needs
	 * the full proxy of debugfs_create_file().
	 */
	for (i = 0; i < ARRAY_SIZE(bootpool_test_files); i++)
		debugfs_create_file_unsafe(bootpool_test_files[i].name,
					   bootpool_test_files[i].mode,
					   bootpool_test_dir, NULL,
					   bootpool_test_files[i].fops);
	return 0;
}

static void __exit bootpool_test_exit(void)
{
	debugfs_remove_recursive(bootpool_test_dir);
}

module_init(bootpool_test_init);
module_exit(bootpool_test_exit);

MODULE_DESCRIPTION("Test-only helpers for bootpool");
MODULE_LICENSE("GPL");
