// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: forwarding requests to Dionysos
 *
 * A request made on Dionysos's CPU (``dionysos_cpu``, or the CPU Dionysos
 * moved to while that is offline) is served right there, with preemption
 * disabled and without sleeping: no IPI, no thread. A request made on any
 * other CPU travels to Dionysos's CPU by IPI
 * (smp_call_function_single_async()) and is served in the IPI handler of
 * its last hop; only when that cannot be done without sleeping is it
 * queued for the ``dionysos`` thread. The reply is written into the
 * request, and the requester, which spins briefly and then sleeps
 * killably, picks it up.
 *
 * ``forward_hops`` emulates the routed path of the Barrelfish original,
 * where a capability sent to core 1 took three message hops instead of one:
 * the request is relayed over that many real cross-CPU hops. Hops alternate
 * between the requester's CPU and ``dionysos_cpu`` (from -> D -> from -> D
 * for three), so that the last one always lands on Dionysos's CPU; with
 * an even count the first hop goes through a third CPU.
 *
 * CPUs come and go on the way. A hop is never sent to an offline CPU
 * (smp_call_function_single_async() refuses it, and the next CPU is chosen
 * again); a hop already queued on a CPU going offline is run there before
 * it goes. A request whose last hop lands on a CPU Dionysos has just left
 * takes one more hop, to where Dionysos is now. So every request reaches
 * Dionysos once, however the CPUs change.
 *
 * A request lives on the heap because it may outlive its requester: a
 * requester killed while waiting marks the request abandoned, and
 * whichever side comes second (the requester or the one answering)
 * decides who cleans up. An abandoned reply goes back to Dionysos.
 */
#include <linux/memcontrol.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "bootpool.h"
#include "bootpool_trace.h"

/*
 * How long a requester spins for its reply before it sleeps. Long enough
 * for a few IPI round trips even under emulation; spinning saves the wake-up
 * IPI and the context switch a sleeping requester would pay.
 */
#define BOOTPOOL_SPIN_NS	(200 * NSEC_PER_USEC)

static unsigned int bootpool_forward_hops = 1;
BOOTPOOL_PARAM_UINT(forward_hops, 1, BOOTPOOL_MAX_HOPS,
		    "Cross-CPU hops a request from another CPU takes to Dionysos, 1-8 (default 1)");

static void bootpool_forward_send(struct bootpool_request *req);

/* A CPU other than @a and @b, or -1 when there is none online. */
static int bootpool_relay_cpu(int a, int b)
{
	int cpu;

	for_each_online_cpu(cpu)
		if (cpu != a && cpu != b)
			return cpu;
	return -1;
}

/*
 * The CPU of the next hop: Dionysos's CPU for the last one, and before it
 * the requester's CPU and Dionysos's in turn, or a third CPU when the
 * requester's is where the request is, or offline.
 */
static int bootpool_next_cpu(struct bootpool_request *req)
{
	unsigned int left = req->hops_total - req->hops;
	int dcpu = bootpool_dionysos_serving_cpu();
	int relay;

	if (left & 1)
		return dcpu;
	if (req->cur_cpu != req->from_cpu && cpu_online(req->from_cpu))
		return req->from_cpu;
	relay = bootpool_relay_cpu(req->cur_cpu, dcpu);
	return relay < 0 ? dcpu : relay;
}

/* The request has reached Dionysos's CPU. */
static void bootpool_forward_arrive(struct bootpool_request *req)
{
	int ret = bootpool_dionysos_grant_atomic(req);

	if (ret == -EAGAIN)
		bootpool_dionysos_enqueue(req);
	else
		bootpool_dionysos_answer(req, ret);
}

static void bootpool_forward_ipi(void *info)
{
	struct bootpool_request *req = info;
	int cpu = smp_processor_id();

	req->hops++;
	trace_bootpool_forward(req->cur_cpu, cpu, req->hops);
	req->cur_cpu = cpu;

	if (req->hops == req->hops_total &&
	    cpu != bootpool_dionysos_serving_cpu()) {
		/* Dionysos moved away while the request was on its way. */
		req->hops_total++;
	}
	if (req->hops < req->hops_total)
		bootpool_forward_send(req);
	else
		bootpool_forward_arrive(req);
}

/*
 * Send the request on its next hop. Once sent, it may be answered and
 * freed at any moment: @req is not touched after a successful send.
 * Context: preemption or interrupts disabled.
 */
static void bootpool_forward_send(struct bootpool_request *req)
{
	int next;

	for (;;) {
		next = bootpool_next_cpu(req);
		if (next != smp_processor_id())
			req->ipis++;
		if (!smp_call_function_single_async(next, &req->csd))
			return;
		/*
		 * @next went offline after it was chosen (-ENXIO; the csd is
		 * never busy, see &struct bootpool_request). Dionysos left it
		 * before it went, so choosing again finds an online CPU.
		 */
		if (next != smp_processor_id())
			req->ipis--;
	}
}

/**
 * bootpool_request_complete() - answer a request
 * @req: the request, with @req->page set when @status is 0.
 * @status: 0 or a negative errno for the requester.
 *
 * After the state changes to DONE the requester may free @req at once;
 * wake_up_var() only hashes the address and does not dereference it.
 *
 * Context: any, including hard interrupt.
 */
void bootpool_request_complete(struct bootpool_request *req, int status)
{
	req->status = status;
	/*
	 * A fully ordered cmpxchg: it publishes @status and @page to the
	 * requester (pairs with the acquire in bootpool_request_done()),
	 * and orders the store of DONE before wake_up_var()'s lockless
	 * check for waiters, as include/linux/wait.h asks of a waker; the
	 * waiter's side is the barrier in set_current_state() inside
	 * wait_var_event_killable(). A release cmpxchg would leave the
	 * check free to pass the store on a weakly ordered CPU, and the
	 * requester asleep for good.
	 */
	if (atomic_cmpxchg(&req->state, BOOTPOOL_REQ_PENDING,
			   BOOTPOOL_REQ_DONE) == BOOTPOOL_REQ_PENDING) {
		wake_up_var(&req->state);
		return;
	}
	bootpool_dionysos_reap(req);
}

/* Pairs with the cmpxchg in bootpool_request_complete(). */
static bool bootpool_request_done(struct bootpool_request *req)
{
	/*
	 * Test-only (Kbuild's BOOTPOOL_KCSAN_PROOF, a KCSAN kernel only): the
	 * acquire made a plain load, the bug KCSAN must report in the kcsan
	 * stage of scripts/check.
	 */
#ifdef BOOTPOOL_KCSAN_PROOF
	return req->state.counter != BOOTPOOL_REQ_PENDING;
#else
	return atomic_read_acquire(&req->state) != BOOTPOOL_REQ_PENDING;
#endif
}

/*
 * Wait for the reply. Return: 0 once it is there, -EINTR when a fatal
 * signal made the requester give the request up (Dionysos owns it then).
 */
static int bootpool_request_wait(struct bootpool_request *req)
{
	u64 until = local_clock() + BOOTPOOL_SPIN_NS;

	while (!bootpool_request_done(req)) {
		if (need_resched() || fatal_signal_pending(current) ||
		    local_clock() > until)
			break;
		cpu_relax();
	}
	if (bootpool_request_done(req))
		return 0;

	if (!wait_var_event_killable(&req->state, bootpool_request_done(req)))
		return 0;
	/*
	 * An abandoned request outlives its domain, and with it the domain's
	 * reference on the memcg the reply is charged to: it takes its own
	 * now, while the domain still holds one, and the reaper drops it.
	 */
	bootpool_memcg_get(req->memcg);
	/*
	 * Fully ordered: whoever comes second, the requester here or the
	 * cmpxchg in bootpool_request_complete(), sees the other's state.
	 */
	if (atomic_cmpxchg(&req->state, BOOTPOOL_REQ_PENDING,
			   BOOTPOOL_REQ_ABANDONED) == BOOTPOOL_REQ_PENDING)
		return -EINTR;
	mem_cgroup_put(req->memcg);
	/*
	 * The reply won the race: take it as usual. The failed cmpxchg is
	 * not ordered; this orders the reads of the reply after it, pairing
	 * with the cmpxchg in bootpool_request_complete().
	 */
	smp_rmb();
	return 0;
}

static void bootpool_request_init(struct bootpool_request *req,
				  unsigned int order, struct mem_cgroup *memcg)
{
	memset(req, 0, sizeof(*req));
	INIT_CSD(&req->csd, bootpool_forward_ipi, req);
	atomic_set(&req->state, BOOTPOOL_REQ_PENDING);
	req->tgid = current->tgid;
	req->order = order;
	/* The domain's reference, while the requester waits. */
	req->memcg = memcg;
}

/* How a request made on @from_cpu reached Dionysos, for the ALLOC reply. */
static void bootpool_reply(struct bootpool_alloc *arg, int from_cpu,
			   int served_cpu, unsigned int hops, unsigned int ipis)
{
	arg->cpu = from_cpu;
	arg->served_cpu = served_cpu;
	arg->hops = hops;
	arg->ipis = ipis;
}

/**
 * bootpool_forward_request() - get a block from Dionysos
 * @memcg: the requesting domain's memory cgroup, charged for the block.
 * @order: log2 of the pages wanted.
 * @arg: the ALLOC argument; its cpu, served_cpu, hops and ipis are set.
 * @page: set to the first page of the granted block.
 *
 * Context: process context, may sleep; no locks held.
 * Return: 0, -ENOMEM (budget exhausted or no memory), -EINTR (fatal
 * signal while waiting) or -ESHUTDOWN (the kernel is going down).
 */
int bootpool_forward_request(struct mem_cgroup *memcg, unsigned int order,
			     struct bootpool_alloc *arg, struct page **page)
{
	struct bootpool_request *req;
	int cpu, ret;

	/*
	 * On Dionysos's CPU a request that can be served without sleeping
	 * needs no request, no queue and no IPI. With preemption disabled
	 * here, Dionysos cannot leave this CPU nor come to it meanwhile.
	 */
	cpu = get_cpu();
	if (cpu == bootpool_dionysos_serving_cpu()) {
		ret = bootpool_dionysos_grant_local(order, memcg, page);
		put_cpu();
		if (ret != -EAGAIN) {
			bootpool_reply(arg, cpu, cpu, 0, 0);
			return ret;
		}
	} else {
		put_cpu();
	}

	/* Forwarded, or left for the thread: the request may outlive us. */
	req = kmalloc(sizeof(*req), GFP_KERNEL_ACCOUNT);
	if (!req)
		return -ENOMEM;
	ret = bootpool_dionysos_queue_enter();
	if (ret) {
		kfree(req);
		return ret;
	}
	bootpool_request_init(req, order, memcg);

	cpu = get_cpu();
	req->from_cpu = cpu;
	req->cur_cpu = cpu;
	if (cpu == bootpool_dionysos_serving_cpu()) {
		ret = bootpool_dionysos_grant_atomic(req);
		if (ret == -EAGAIN)
			bootpool_dionysos_enqueue(req);
		else
			bootpool_dionysos_answer(req, ret);
	} else {
		req->hops_total = clamp_val(READ_ONCE(bootpool_forward_hops),
					    1, BOOTPOOL_MAX_HOPS);
		bootpool_forward_send(req);
	}
	put_cpu();

	ret = bootpool_request_wait(req);
	if (ret)
		return ret;

	ret = req->status;
	bootpool_reply(arg, req->from_cpu, req->served_cpu, req->hops,
		       req->ipis);
	if (!ret)
		*page = req->page;
	kfree(req);
	return ret;
}
