// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: a request's life: forwarding it to Dionysos and the reply back
 *
 * This file owns a request to Dionysos from start to end: the shortcut on
 * Dionysos's CPU, the request's allocation, its count in the queue depth,
 * its hops, its answer and its abandonment. Dionysos (dionysos.c) is the
 * service below: it grants, and runs work on its thread and CPU. Calls go
 * one way, from here down to dionysos.c: what cannot be granted without
 * sleeping, and the reply of a requester that died, go to Dionysos's
 * thread as work of this file's (bootpool_request_serve(),
 * bootpool_request_reap()), which grants or returns through Dionysos's
 * own calls. Dionysos never sees a request.
 *
 * A request made on Dionysos's CPU (``dionysos_cpu``, or the CPU Dionysos
 * moved to while that is offline) is served right there, with preemption
 * disabled and without sleeping: no request, no IPI, no thread. That is
 * the one shortcut, decided in one place. Any other request is allocated,
 * counted, and routed from the CPU it starts on: from Dionysos's CPU (the
 * shortcut could not serve it, or the requester came there while the
 * request was allocated) it has no hop to take; from any other it travels
 * to Dionysos's CPU by IPI (smp_call_function_single_async()). Either way
 * it is served where it arrives, in the IPI handler of its last hop or
 * with preemption disabled, and only when that cannot be done without
 * sleeping is it queued for the ``dionysos`` thread. The reply is written
 * into the request, and the requester, which spins briefly and then
 * sleeps killably, picks it up.
 *
 * A remote ALLOC in the order it happens: bootpool_forward_request() tries
 * the shortcut, bootpool_forward_here(); else bootpool_request_new()
 * allocates and counts a request, and bootpool_request_leave() starts it
 * on its way; bootpool_forward_ipi() runs each hop, and
 * bootpool_forward_arrive() has Dionysos grant it, or queues
 * bootpool_request_serve() for the thread; bootpool_request_answer()
 * completes it, in the IPI handler or on the thread;
 * bootpool_request_wait() picks up the reply, or abandons the request,
 * which bootpool_request_reap() then frees on the thread.
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
 *
 * A request is charged to the requester's memory cgroup (it is allocated
 * with GFP_KERNEL_ACCOUNT in the requester's context), and the memcg's
 * slab hooks on its kmalloc() and kfree() were the largest cost of the
 * path beyond the IPI and the system calls (Documentation/testing.rst,
 * *Where a remote request's time goes*). So a domain keeps the request
 * of its last ALLOC, still charged, as its spare, and its next request
 * takes it instead of allocating; a request abandoned by a dying
 * requester is not kept, and the domain frees its spare when it is torn
 * down (bootpool_forward_spare_free()).
 */
#include <linux/delay.h>
#include <linux/memcontrol.h>
#include <linux/rcupdate.h>
#include <linux/reboot.h>
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

/* &struct bootpool_request.state */
enum {
	BOOTPOOL_REQ_PENDING,
	BOOTPOOL_REQ_DONE,
	BOOTPOOL_REQ_ABANDONED,
};

/**
 * struct bootpool_request - one request to Dionysos
 * @csd: carries the request from CPU to CPU; reused for each hop, which
 *	is safe because an async csd is unlocked before its function runs.
 * @work: runs bootpool_request_serve() or bootpool_request_reap() on
 *	Dionysos's thread.
 * @d: the Dionysos instance it goes to.
 * @state: PENDING, then DONE (the requester takes the reply) or ABANDONED
 *	(the requester died; bootpool_request_reap() takes the reply back).
 * @tgid: requesting process, for tracing.
 * @memcg: memory cgroup the granted block is charged to: the domain's
 *	reference while the requester waits, its own once abandoned.
 * @order: log2 of the pages requested.
 * @from_cpu: CPU the request was made on.
 * @cur_cpu: CPU the request is on now.
 * @hops_total: hops to travel to Dionysos: none from Dionysos's CPU,
 *	else ``forward_hops``, and one more each time Dionysos moved away
 *	from the CPU the last one reached.
 * @hops: hops travelled.
 * @ipis: IPIs sent.
 * @served_cpu: the CPU that served it, valid once DONE with @status 0.
 * @status: 0 or a negative errno, valid once DONE.
 * @page: the granted block, valid once DONE with @status 0.
 * @steal: what its grant stole from other instances, valid once DONE.
 *
 * Allocated, sent, answered and freed by this file alone.
 */
struct bootpool_request {
	call_single_data_t csd;
	struct bootpool_dionysos_work work;
	struct bootpool_dionysos *d;
	atomic_t state;
	pid_t tgid;
	struct mem_cgroup *memcg;
	unsigned int order;
	int from_cpu;
	int cur_cpu;
	unsigned int hops_total;
	unsigned int hops;
	unsigned int ipis;
	int served_cpu;
	int status;
	struct page *page;
	struct bootpool_steal steal;
};

/**
 * struct bootpool_route_count - one instance's requests
 * @depth: requests on their way to it and not yet answered.
 * @max_depth: the largest @depth seen, or depth of a request served on
 *	the spot.
 * @requests: requests it served, granted or not.
 * @ipis: IPIs that carried them.
 * @cross_node: those made on another node than the one it served on, or
 *	for which it stole from an instance on another node.
 */
struct bootpool_route_count {
	atomic_t depth;
	atomic_t max_depth;
	atomic_long_t requests;
	atomic_long_t ipis;
	atomic_long_t cross_node;
};

/**
 * struct bootpool_requests - the requests on their way to Dionysos
 * @depth: requests on their way to Dionysos and not yet answered. A
 *	request made on Dionysos's CPU and served there at once never waits
 *	in a queue: it is not counted, but it is seen by @max_depth.
 * @max_depth: the largest @depth seen.
 * @down: the kernel is going down: no request may leave for Dionysos,
 *	whichever instance it goes to.
 * @reboot_nb: the reboot notifier that sets @down.
 * @inst: each instance's requests.
 */
struct bootpool_requests {
	atomic_t depth;
	atomic_t max_depth;
	bool down;
	struct notifier_block reboot_nb;
	struct bootpool_route_count inst[BOOTPOOL_MAX_DIONYSOS];
};

static struct bootpool_requests bootpool_requests;

static struct bootpool_route_count *
bootpool_route_count(const struct bootpool_dionysos *d)
{
	return &bootpool_requests.inst[bootpool_dionysos_id(d)];
}

static void bootpool_note_max(atomic_t *max_depth, int depth)
{
	int max = atomic_read(max_depth);

	while (depth > max && !atomic_try_cmpxchg(max_depth, &max, depth))
		;
}

/*
 * Count a request on its way to @d, before it leaves;
 * bootpool_request_answer() drops the count. The depth seen here is what
 * ``max_queue_depth`` records, and @d's ``queue_max``.
 * Return: 0, or -ESHUTDOWN when the kernel is going down: the request must
 * not leave (bootpool_forward_reboot()).
 */
static int bootpool_request_enter(struct bootpool_dionysos *d)
{
	struct bootpool_route_count *rc = bootpool_route_count(d);
	/* Fully ordered: pairs with the barrier in bootpool_forward_reboot(). */
	int depth = atomic_inc_return(&bootpool_requests.depth);

	if (READ_ONCE(bootpool_requests.down)) {
		atomic_dec(&bootpool_requests.depth);
		return -ESHUTDOWN;
	}
	bootpool_note_max(&bootpool_requests.max_depth, depth);
	bootpool_note_max(&rc->max_depth, atomic_inc_return(&rc->depth));
	return 0;
}

/*
 * A request made on @from_cpu and served on @served_cpu crossed nodes, or
 * share was stolen for it from an instance on another node.
 */
static bool bootpool_cross_node(int from_cpu, int served_cpu,
				const struct bootpool_steal *steal)
{
	return cpu_to_node(from_cpu) != cpu_to_node(served_cpu) ||
	       steal->cross_node;
}

/*
 * Take back the reply of a requester that gave up, and free its request.
 * Not into Dionysos's reserve: the requester's domain may be torn down
 * already, and with it the purge of its memcg's blocks; a reserved block
 * would keep the memcg, a removed cgroup too, until unload.
 * Context: Dionysos's thread, or bootpool_dionysos_stop().
 */
static void bootpool_request_reap(struct bootpool_dionysos_work *work)
{
	struct bootpool_request *req =
		container_of(work, struct bootpool_request, work);

	if (!req->status && req->page)
		bootpool_dionysos_return(bootpool_dionysos_id(req->d), req->page,
					 req->order);
	bootpool_count(BOOTPOOL_CNT_ABANDONED, 1);
	/* The reference the requester took when it gave up. */
	mem_cgroup_put(req->memcg);
	kfree(req);
}

/*
 * Hand the reply to the requester, or the request to Dionysos's thread to
 * be taken back if the requester gave up. After the state changes to DONE
 * the requester may free @req at once; wake_up_var() only hashes the
 * address and does not dereference it.
 * Context: any, including hard interrupt.
 */
static void bootpool_request_complete(struct bootpool_request *req, int status)
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
	req->work.func = bootpool_request_reap;
	bootpool_dionysos_queue_work(req->d, &req->work);
}

/*
 * Answer a request counted on its way, with @req->page and
 * @req->served_cpu set when @status is 0: in the IPI handler, or on
 * Dionysos's thread.
 *
 * The depth drops only after bootpool_request_complete() has handed the
 * reply to its requester or, if the requester gave up, queued the request
 * to be taken back: bootpool_forward_stop() waits for a zero depth before
 * it stops the thread, which runs what is left, so no abandoned reply can
 * slip in after its last look.
 *
 * Context: any, including hard interrupt.
 */
static void bootpool_request_answer(struct bootpool_request *req, int status)
{
	struct bootpool_route_count *rc = bootpool_route_count(req->d);

	trace_bootpool_dionysos_serve(req->tgid, req->order,
				      atomic_read(&bootpool_requests.depth),
				      status, req->served_cpu,
				      bootpool_dionysos_id(req->d));
	atomic_long_inc(&rc->requests);
	atomic_long_add(req->ipis, &rc->ipis);
	if (bootpool_cross_node(req->from_cpu, req->served_cpu, &req->steal))
		atomic_long_inc(&rc->cross_node);
	atomic_dec(&rc->depth);
	bootpool_request_complete(req, status);
	atomic_dec(&bootpool_requests.depth);
}

/*
 * Serve a request that could not be served without sleeping.
 * Context: Dionysos's thread, which runs with migration disabled.
 */
static void bootpool_request_serve(struct bootpool_dionysos_work *work)
{
	struct bootpool_request *req =
		container_of(work, struct bootpool_request, work);
	int ret;

	ret = bootpool_dionysos_grant(req->d, req->order, req->memcg,
				      &req->page, &req->steal);
	req->served_cpu = raw_smp_processor_id();
	bootpool_request_answer(req, ret);
}

/*
 * The request has reached Dionysos's CPU: it is served here, or queued
 * for the thread.
 * Context: in the IPI handler on Dionysos's CPU, or there with preemption
 * disabled.
 */
static void bootpool_forward_arrive(struct bootpool_request *req)
{
	int ret;

	req->served_cpu = smp_processor_id();
	ret = bootpool_dionysos_grant_atomic(req->d, req->order, req->memcg,
					     &req->page, &req->steal);
	if (ret == -EAGAIN) {
		req->work.func = bootpool_request_serve;
		bootpool_dionysos_queue_work(req->d, &req->work);
	} else {
		bootpool_request_answer(req, ret);
	}
}

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
	int dcpu = bootpool_dionysos_serving_cpu(req->d);
	int relay;

	if (left & 1)
		return dcpu;
	if (req->cur_cpu != req->from_cpu && cpu_online(req->from_cpu))
		return req->from_cpu;
	relay = bootpool_relay_cpu(req->cur_cpu, dcpu);
	return relay < 0 ? dcpu : relay;
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

/*
 * Take the request on from where it is: on its next hop, or to Dionysos
 * once it has travelled them all.
 * Context: preemption or interrupts disabled.
 */
static void bootpool_forward_go(struct bootpool_request *req)
{
	if (req->hops < req->hops_total)
		bootpool_forward_send(req);
	else
		bootpool_forward_arrive(req);
}

static void bootpool_forward_ipi(void *info)
{
	struct bootpool_request *req = info;
	int cpu = smp_processor_id();

	req->hops++;
	trace_bootpool_forward(req->cur_cpu, cpu, req->hops,
			       bootpool_dionysos_id(req->d));
	req->cur_cpu = cpu;

	if (req->hops == req->hops_total &&
	    cpu != bootpool_dionysos_serving_cpu(req->d)) {
		/* Dionysos moved away while the request was on its way. */
		req->hops_total++;
	}
	bootpool_forward_go(req);
}

/*
 * Start the request on its way from this CPU: no hop from Dionysos's CPU,
 * ``forward_hops`` from any other.
 */
static void bootpool_request_leave(struct bootpool_request *req)
{
	int cpu = get_cpu();

	req->from_cpu = cpu;
	req->cur_cpu = cpu;
	if (cpu != bootpool_dionysos_serving_cpu(req->d))
		req->hops_total = clamp_val(READ_ONCE(bootpool_forward_hops),
					    1, BOOTPOOL_MAX_HOPS);
	bootpool_forward_go(req);
	put_cpu();
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

/*
 * Keep @req, done with, as the domain's spare in *@spare, or free it if
 * the domain has one already (another thread's request came back first).
 */
static void bootpool_request_keep(struct bootpool_request *req,
				  struct bootpool_request **spare)
{
	if (cmpxchg(spare, NULL, req))
		kfree(req);
}

/*
 * A new request, counted on its way: the domain's spare if it has one,
 * else a new one charged to the requester's memcg. Return: the request,
 * or an ERR_PTR: -ENOMEM, or -ESHUTDOWN (bootpool_request_enter()).
 */
static struct bootpool_request *
bootpool_request_new(struct bootpool_dionysos *d, struct mem_cgroup *memcg,
		     unsigned int order, struct bootpool_request **spare)
{
	struct bootpool_request *req;
	int ret;

	/* Forwarded, or left for the thread: the request may outlive us. */
	req = xchg(spare, NULL);
	if (!req)
		req = kmalloc(sizeof(*req), GFP_KERNEL_ACCOUNT);
	if (!req)
		return ERR_PTR(-ENOMEM);
	ret = bootpool_request_enter(d);
	if (ret) {
		bootpool_request_keep(req, spare);
		return ERR_PTR(ret);
	}
	memset(req, 0, sizeof(*req));
	INIT_CSD(&req->csd, bootpool_forward_ipi, req);
	atomic_set(&req->state, BOOTPOOL_REQ_PENDING);
	req->d = d;
	req->tgid = current->tgid;
	req->order = order;
	/* The domain's reference, while the requester waits. */
	req->memcg = memcg;
	return req;
}

/* How a request made on @from_cpu reached instance @d. */
static void bootpool_reply(struct bootpool_forward_reply *reply,
			   const struct bootpool_dionysos *d, int from_cpu,
			   int served_cpu, unsigned int hops, unsigned int ipis)
{
	reply->instance = bootpool_dionysos_id(d);
	reply->cross_node = bootpool_cross_node(from_cpu, served_cpu,
						&reply->steal);
	reply->cpu = from_cpu;
	reply->served_cpu = served_cpu;
	reply->hops = hops;
	reply->ipis = ipis;
}

/*
 * The shortcut: on the CPU of the instance a request is routed to, a
 * request that can be served without sleeping needs no request, no queue
 * and no IPI. The instance may move while it is served (see &struct
 * bootpool_dionysos.cpu): it is then served on the CPU it found the
 * instance on, as ``served_cpu`` says. *@dp is set to the instance.
 * Return: like bootpool_dionysos_grant_atomic(); -EAGAIN also off the
 * instance's CPU: a request must be sent.
 */
static int bootpool_forward_here(struct mem_cgroup *memcg, unsigned int order,
				 struct bootpool_dionysos **dp,
				 struct bootpool_forward_reply *reply)
{
	int cpu = get_cpu();
	struct bootpool_dionysos *d = bootpool_dionysos_route(cpu);
	struct bootpool_route_count *rc = bootpool_route_count(d);
	int depth, ret = -EAGAIN;

	*dp = d;
	reply->steal = (struct bootpool_steal){ 0 };
	if (cpu == bootpool_dionysos_serving_cpu(d)) {
		/*
		 * Served on the spot, it never waits in a queue: it is not
		 * counted in the queue depth, only compared with the deepest
		 * seen.
		 */
		depth = atomic_read(&bootpool_requests.depth) + 1;
		bootpool_note_max(&bootpool_requests.max_depth, depth);
		bootpool_note_max(&rc->max_depth, atomic_read(&rc->depth) + 1);
		ret = bootpool_dionysos_grant_atomic(d, order, memcg,
						     &reply->page,
						     &reply->steal);
		if (ret != -EAGAIN) {
			trace_bootpool_dionysos_serve(current->tgid, order,
						      depth, ret, cpu,
						      bootpool_dionysos_id(d));
			atomic_long_inc(&rc->requests);
			if (reply->steal.cross_node)
				atomic_long_inc(&rc->cross_node);
		}
	}
	put_cpu();
	if (ret != -EAGAIN)
		bootpool_reply(reply, d, cpu, cpu, 0, 0);
	return ret;
}

/**
 * bootpool_forward_request() - get a block from Dionysos
 * @memcg: the requesting domain's memory cgroup, charged for the block.
 * @order: log2 of the pages wanted.
 * @spare: the domain's spare request: taken if there is one, and the
 *	request is left there afterwards unless it was abandoned.
 * @reply: set to the block and the way its request took, on success.
 *
 * Context: process context, may sleep; no locks held.
 * Return: 0, -ENOMEM (budget exhausted or no memory), -EINTR (fatal
 * signal while waiting) or -ESHUTDOWN (the kernel is going down).
 */
int bootpool_forward_request(struct mem_cgroup *memcg, unsigned int order,
			     struct bootpool_request **spare,
			     struct bootpool_forward_reply *reply)
{
	struct bootpool_request *req;
	struct bootpool_dionysos *d;
	int ret;

	ret = bootpool_forward_here(memcg, order, &d, reply);
	if (ret != -EAGAIN)
		return ret;

	req = bootpool_request_new(d, memcg, order, spare);
	if (IS_ERR(req))
		return PTR_ERR(req);
	bootpool_request_leave(req);
	ret = bootpool_request_wait(req);
	if (ret)
		return ret;

	ret = req->status;
	/* The shortcut may have stolen share before it gave up: keep both. */
	reply->steal.steals += req->steal.steals;
	reply->steal.pages += req->steal.pages;
	reply->steal.cross_node |= req->steal.cross_node;
	bootpool_reply(reply, req->d, req->from_cpu, req->served_cpu,
		       req->hops, req->ipis);
	reply->page = req->page;
	bootpool_request_keep(req, spare);
	return ret;
}

/**
 * bootpool_forward_spare_free() - free a domain's spare request
 * @spare: where the domain keeps it; emptied.
 *
 * Context: process context, when the domain is torn down and makes no
 * more requests.
 */
void bootpool_forward_spare_free(struct bootpool_request **spare)
{
	kfree(xchg(spare, NULL));
}

/**
 * bootpool_forward_depth() - requests on their way to Dionysos
 *
 * Context: any.
 * Return: the requests counted on their way and not yet answered.
 */
int bootpool_forward_depth(void)
{
	return atomic_read(&bootpool_requests.depth);
}

/**
 * bootpool_forward_max_depth() - deepest queue seen
 *
 * Context: any.
 * Return: the largest number of requests outstanding at Dionysos.
 */
unsigned long bootpool_forward_max_depth(void)
{
	return atomic_read(&bootpool_requests.max_depth);
}

/**
 * bootpool_forward_reset_max_depth() - restart the deepest-queue record
 *
 * Each instance's ``queue_max`` restarts too.
 *
 * Context: any.
 */
void bootpool_forward_reset_max_depth(void)
{
	struct bootpool_route_count *rc;

	atomic_set(&bootpool_requests.max_depth,
		   atomic_read(&bootpool_requests.depth));
	for (rc = bootpool_requests.inst;
	     rc < bootpool_requests.inst + BOOTPOOL_MAX_DIONYSOS; rc++)
		atomic_set(&rc->max_depth, atomic_read(&rc->depth));
}

/**
 * bootpool_forward_route_stats() - the requests an instance served
 * @instance: the instance's id.
 * @rs: filled.
 *
 * Context: any.
 */
void bootpool_forward_route_stats(unsigned int instance,
				  struct bootpool_route_stats *rs)
{
	struct bootpool_route_count *rc = &bootpool_requests.inst[instance];

	rs->requests = atomic_long_read(&rc->requests);
	rs->ipis = atomic_long_read(&rc->ipis);
	rs->cross_node = atomic_long_read(&rc->cross_node);
	rs->queue_max = atomic_read(&rc->max_depth);
}

/* Wait until every request on its way has been answered. */
static void bootpool_requests_drain(void)
{
	while (atomic_read(&bootpool_requests.depth))
		msleep(20);
}

/*
 * The kernel is going down (reboot, halt, power-off or kexec): take no more
 * requests, and wait for the answers of those on their way. Next the
 * kernel stops the other CPUs, on x86 without CPU hotplug, each when it
 * takes the stop IPI; a hop or an answer still moving between CPUs then
 * could land on a CPU already stopped, or wake a requester there, which
 * the scheduler reports as a reschedule of an offline CPU. Processes keep
 * running until their CPU stops: their requests for Dionysos fail with
 * ESHUTDOWN.
 */
static int bootpool_forward_reboot(struct notifier_block *nb,
				   unsigned long action, void *data)
{
	WRITE_ONCE(bootpool_requests.down, true);
	/* Pairs with the atomic_inc_return() of bootpool_request_enter(). */
	smp_mb();
	bootpool_requests_drain();
	return NOTIFY_DONE;
}

/**
 * bootpool_forward_start() - start Dionysos and the way to it
 *
 * Context: process context, module init.
 * Return: 0, or a negative errno (see bootpool_dionysos_start()).
 */
int bootpool_forward_start(void)
{
	int ret;

	bootpool_requests.reboot_nb.notifier_call = bootpool_forward_reboot;
	ret = register_reboot_notifier(&bootpool_requests.reboot_nb);
	if (ret)
		return ret;
	ret = bootpool_dionysos_start();
	if (ret)
		unregister_reboot_notifier(&bootpool_requests.reboot_nb);
	return ret;
}

/**
 * bootpool_forward_stop() - wait for the requests on their way, then stop
 * Dionysos
 *
 * Called once no process can send a request any more; replies still in
 * flight (of requesters that died) are waited for, and taken back on
 * Dionysos's thread or when it stops. An answer drops the depth only after
 * its abandoned request is queued there (bootpool_request_answer()); the
 * grace period after the wait lets an IPI handler that dropped it return
 * from this module's code.
 *
 * Context: process context, module exit.
 */
void bootpool_forward_stop(void)
{
	unregister_reboot_notifier(&bootpool_requests.reboot_nb);
	bootpool_requests_drain();
	synchronize_rcu();
	bootpool_dionysos_stop();
}
