/*
 * Per-CPU lists of free order-0 pages, one per CPU and node, in front of the buddy lists:
 * refill, drain and their sizes. A list belongs to its CPU and is touched only with interrupts
 * off (no lock); refill and drain take the node lock inside that section.
 */
#include "mm/page_alloc_internal.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"

struct per_cpu_pages pcp_lists[MAX_CPUS][MAX_NUMNODES];

void pcp_refill(struct per_cpu_pages *pcp, struct mem_node *n)
{
	spin_lock(&n->lock);
	for (int i = 0; i < pcp->batch; i++) {
		struct page *p = buddy_take(n, 0);

		if (!p)
			break;
		p->flags |= PG_pcp;
		p->lru.next = pcp->head;
		pcp->head = p;
		pcp->count++;
	}
	spin_unlock(&n->lock);
}

void pcp_drain(struct per_cpu_pages *pcp, struct mem_node *n, int count)
{
	spin_lock(&n->lock);
	while (count-- > 0 && pcp->head) {
		struct page *p = pcp->head;

		pcp->head = p->lru.next;
		pcp->count--;
		p->flags &= ~PG_pcp;
		buddy_give(n, p, 0);
	}
	spin_unlock(&n->lock);
}

void drain_local_node(int nid)
{
	uint64_t irq = local_irq_save();
	struct per_cpu_pages *pcp = &pcp_lists[smp_processor_id()][nid];

	if (pcp->count)
		pcp_drain(pcp, &mem_nodes[nid], pcp->count);
	local_irq_restore(irq);
}

void drain_local_pages(void)
{
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		if (mem_nodes[nid].online)
			drain_local_node(nid);
	}
}

static void drain_local_pages_ipi(void *unused)
{
	drain_local_pages();
}

/*
 * Gives every CPU's per-CPU lists back to the buddy lists. Reaching the other CPUs takes a
 * cross-CPU call that waits for them, which is only safe with interrupts on (two CPUs
 * waiting for each other with interrupts off would never answer); with them off, only this
 * CPU's lists are drained and false is returned.
 */
bool drain_all_pages(void)
{
	if (!(READ_ONCE(cpu_online_mask) & ~(1UL << smp_processor_id()))) {
		drain_local_pages();
		return true;
	}
	if (!(read_rflags() & RFLAGS_IF)) {
		drain_local_pages();
		return false;
	}
	on_each_cpu(drain_local_pages_ipi, NULL, true);
	return true;
}

void set_pcp_sizes(void)
{
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		/* A node's lists together should hold a small share of it: 1/1024 per list. */
		uint64_t b = mem_nodes[nid].usable / 1024;
		int batch = (int)MAX(MIN(b, 63UL), 4UL);

		for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
			pcp_lists[cpu][nid].batch = batch;
			pcp_lists[cpu][nid].high = 4 * batch;
		}
	}
}
