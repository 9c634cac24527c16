// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: the dionysos thread, its work and its CPU
 *
 * Dionysos's thread, ``dionysos``, is bound to ``dionysos_cpu`` and runs
 * with migration disabled. It runs the work queued for it
 * (bootpool_dionysos_queue_work()): forward.c's requests that cannot be
 * granted without sleeping, and the replies of requesters that died.
 * When its CPU goes offline, Dionysos moves, thread and all, to another,
 * and comes back when its CPU does.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/sched.h>

#include "bootpool.h"
#include "bootpool_trace.h"
#include "dionysos.h"

/**
 * bootpool_dionysos_queue_work() - run work on an instance's thread
 * @d: the instance.
 * @work: the work. Its @func runs once, on @d's ``dionysos`` thread on the
 *	CPU @d serves on, with migration disabled; it may sleep, and may
 *	free @work or queue it again: Dionysos does not touch @work once it
 *	has called @func.
 *
 * Work still queued when Dionysos stops runs in bootpool_dionysos_stop().
 *
 * Context: any, including hard interrupt.
 */
void bootpool_dionysos_queue_work(struct bootpool_dionysos *d,
				  struct bootpool_dionysos_work *work)
{
	llist_add(&work->node, &d->work);
	wake_up_process(d->task);
}

/* Run the work queued so far on @d, in the order it was queued. */
static void bootpool_dionysos_run_work(struct bootpool_dionysos *d)
{
	struct bootpool_dionysos_work *work, *next;
	struct llist_node *list;

	list = llist_reverse_order(llist_del_all(&d->work));
	llist_for_each_entry_safe(work, next, list, node)
		work->func(work);
}

static bool bootpool_dionysos_has_work(struct bootpool_dionysos *d)
{
	return !llist_empty(&d->work);
}

/*
 * Follow bootpool_dionysos_move() to the CPU @d now serves on. The
 * mover sets the thread's affinity to that one CPU, and waits, before the
 * thread lets the scheduler move it: the thread polls until it sees the
 * new mask, so it never runs with migration enabled on a CPU outside its
 * mask, where the scheduler would widen its affinity.
 */
static void bootpool_dionysos_follow(struct bootpool_dionysos *d,
				     unsigned int cpu)
{
	while (!cpumask_test_cpu(cpu, &current->cpus_mask)) {
		/* The move was taken back (bootpool_dionysos_move()). */
		if (READ_ONCE(d->cpu) != cpu)
			return;
		schedule_timeout_uninterruptible(1);
	}
	migrate_enable();
	/*
	 * migrate_enable() queued the stopper that moves the thread; without
	 * kernel preemption it runs only when the thread lets it.
	 */
	cond_resched();
	migrate_disable();
	if (smp_processor_id() == cpu)
		complete(&d->arrived);
}

/*
 * The thread runs with migration disabled from start to end: the
 * scheduler then leaves it on its CPU even while that CPU is on its way
 * offline (a bound kthread woken there would otherwise be pushed to any
 * CPU, its affinity widened), until the CPU's hotplug callback moves it.
 */
static int bootpool_dionysos_thread(void *data)
{
	struct bootpool_dionysos *d = data;
	unsigned int cpu;

	migrate_disable();
	complete(&d->started);
	for (;;) {
		/*
		 * The barrier in set_current_state() before the stop flag and
		 * the queues are looked at pairs with the one in
		 * wake_up_process() after kthread_stop() sets the flag and
		 * after llist_add(): a stop or a request that comes meanwhile
		 * is seen here, or its wake-up finds the thread asleep.
		 */
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		cpu = READ_ONCE(d->cpu);
		if (cpu != smp_processor_id()) {
			__set_current_state(TASK_RUNNING);
			bootpool_dionysos_follow(d, cpu);
			continue;
		}
		if (!bootpool_dionysos_has_work(d)) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		bootpool_dionysos_run_work(d);
		cond_resched();
	}
	__set_current_state(TASK_RUNNING);
	migrate_enable();
	return 0;
}

/*
 * Move @d to @cpu: requests are routed there from now on, and the thread
 * goes there with its queues. Requests already on their way to the old
 * CPU are sent on from there (forward.c).
 * Context: a hotplug callback on the CPU @d leaves or reaches.
 */
static void bootpool_dionysos_move(struct bootpool_dionysos *d,
				   unsigned int cpu)
{
	unsigned int from = d->cpu;

	if (!d->task || cpu == from)
		return;
	reinit_completion(&d->arrived);
	WRITE_ONCE(d->cpu, cpu);
	WRITE_ONCE(d->moves, d->moves + 1);
	trace_bootpool_dionysos_move(from, cpu, d->id);
	wake_up_process(d->task);
	/*
	 * Returns once the thread has enabled migration and moved. It fails
	 * only for a CPU that is not online, which @cpu is: should it ever
	 * fail, the instance stays where it is rather than wait for a thread
	 * that will not come.
	 */
	if (WARN_ON_ONCE(set_cpus_allowed_ptr(d->task, cpumask_of(cpu)))) {
		WRITE_ONCE(d->cpu, from);
		return;
	}
	/*
	 * And once it has disabled migration again there: until then the
	 * scheduler may push it off that CPU, should it start going offline,
	 * and widen its affinity (the next offline can follow at once).
	 */
	wait_for_completion(&d->arrived);
}

/* The dynamic hotplug state of the callbacks below. */
static enum cpuhp_state bootpool_dionysos_hp_state;

/* A home CPU is back: its instance returns to it. */
static int bootpool_dionysos_cpu_online(unsigned int cpu)
{
	struct bootpool_dionysos *d;

	for_each_dionysos(d)
		if (cpu == d->home_cpu)
			bootpool_dionysos_move(d, cpu);
	return 0;
}

/*
 * Where @d goes when @cpu, the one it serves on, is going: the
 * lowest-numbered other online CPU of its home node, so that its node's
 * requests stay on their node; with none, the lowest-numbered other
 * online CPU, the boot CPU unless that is the one going. The boot CPU is
 * the one that suspend, hibernation and kexec keep to the end, so an
 * instance moves at most once more than its node has CPUs.
 */
static unsigned int bootpool_dionysos_next_cpu(struct bootpool_dionysos *d,
					       unsigned int cpu)
{
	unsigned int next;

	for_each_cpu_and(next, cpumask_of_node(d->node), cpu_online_mask)
		if (next != cpu)
			return next;
	return cpumask_any_but(cpu_online_mask, cpu);
}

/* An instance's CPU is going: the instance moves (see above). */
static int bootpool_dionysos_cpu_offline(unsigned int cpu)
{
	struct bootpool_dionysos *d;

	for_each_dionysos(d)
		if (cpu == d->cpu)
			bootpool_dionysos_move(d, bootpool_dionysos_next_cpu(d,
									     cpu));
	return 0;
}

/*
 * Start @d's thread on its home CPU. kthread_create_on_cpu() would name
 * the thread ``dionysos/N``; the thread is created under its own name,
 * ``dionysos`` for instance 0 and ``dionysosI`` for instance I, and bound
 * before its first wake-up.
 * Context: process context, module init, the hotplug lock held.
 */
static int bootpool_dionysos_start_one(struct bootpool_dionysos *d)
{
	struct task_struct *task;

	spin_lock_init(&d->lock);
	init_completion(&d->started);
	init_completion(&d->arrived);
	init_llist_head(&d->work);
	if (d->id)
		task = kthread_create(bootpool_dionysos_thread, d, "dionysos%u",
				      d->id);
	else
		task = kthread_create(bootpool_dionysos_thread, d, "dionysos");
	if (IS_ERR(task))
		return PTR_ERR(task);
	kthread_bind(task, d->home_cpu);
	d->cpu = d->home_cpu;
	d->task = task;
	wake_up_process(task);
	wait_for_completion(&d->started);
	return 0;
}

/* Stop the threads of the instances started. Context: module init or exit. */
static void bootpool_dionysos_stop_all(void)
{
	struct bootpool_dionysos *d;

	for_each_dionysos(d) {
		if (d->task)
			kthread_stop(d->task);
		d->task = NULL;
	}
}

/**
 * bootpool_dionysos_start() - start the ``dionysos`` threads
 *
 * The hotplug lock is held until every thread has disabled migration and
 * the hotplug callbacks that move them are in place.
 *
 * Context: process context, module init.
 * Return: 0, -EINVAL when ``dionysos_cpu`` is not online or
 * ``dionysos_cpus`` is not a valid value (bootpool_dionysos_setup()), or
 * another negative errno.
 */
int bootpool_dionysos_start(void)
{
	struct bootpool_dionysos *d;
	int ret;

	cpus_read_lock();
	ret = bootpool_dionysos_setup();
	if (ret)
		goto out_unlock;
	for_each_dionysos(d) {
		ret = bootpool_dionysos_start_one(d);
		if (ret)
			goto out_stop;
	}

	ret = cpuhp_setup_state_nocalls_cpuslocked(CPUHP_AP_ONLINE_DYN,
						   "bootpool:dionysos",
						   bootpool_dionysos_cpu_online,
						   bootpool_dionysos_cpu_offline);
	if (ret < 0)
		goto out_stop;
	bootpool_dionysos_hp_state = ret;
	cpus_read_unlock();
	return 0;

out_stop:
	bootpool_dionysos_stop_all();
out_unlock:
	cpus_read_unlock();
	return ret;
}

/**
 * bootpool_dionysos_stop() - stop the threads
 *
 * Called once no request is on its way (forward.c waits for that): the
 * work still queued (forward.c taking back the replies of requesters that
 * died) runs here, once the threads are gone.
 *
 * Context: process context, module exit.
 */
void bootpool_dionysos_stop(void)
{
	struct bootpool_dionysos *d;

	cpus_read_lock();
	bootpool_dionysos_stop_all();
	cpus_read_unlock();
	cpuhp_remove_state_nocalls(bootpool_dionysos_hp_state);

	for_each_dionysos(d)
		bootpool_dionysos_run_work(d);
	bootpool_dionysos_purge(NULL);
	for_each_dionysos(d)
		WARN(d->granted,
		     "bootpool: %lu Dionysos pages not returned (instance %u)\n",
		     d->granted, d->id);
}
