/*
 * NUMA topology for the page allocator: which node owns which frames (from SRAT), distances
 * (from SLIT) and each node's fallback list. Written on the boot CPU before SMP, read without a
 * lock afterwards.
 */
#include "mm/page_alloc_internal.h"
#include "kernel/printk.h"

#define NUMA_MAX_BLKS	     32
#define NUMA_LOCAL_DISTANCE  10
#define NUMA_REMOTE_DISTANCE 20

/* Physical ranges per node from SRAT; empty means everything is node 0. Boot CPU only. */
static struct numa_blk {
	uint64_t start_pfn, end_pfn;
	int nid;
} numa_blks[NUMA_MAX_BLKS];
static int nr_numa_blks;
/* SLIT distances; 0 means not given, which reads as the default. */
static uint8_t numa_dist[MAX_NUMNODES][MAX_NUMNODES];

int numa_add_memory(int nid, uint64_t start, uint64_t end)
{
	uint64_t s = start >> PAGE_SHIFT, e = ALIGN_UP(end, PAGE_SIZE) >> PAGE_SHIFT;

	if (!nid_in_range(nid) || start >= end) {
		pr_err("numa: bad memory range %#lx..%#lx for node %d\n", (unsigned long)start,
		       (unsigned long)end, nid);
		return -1;
	}
	if (pa_ready) {
		pr_err("numa: node %d memory given after the page allocator started; ignored\n",
		       nid);
		return -1;
	}
	for (int i = 0; i < nr_numa_blks; i++) {
		if (s < numa_blks[i].end_pfn && numa_blks[i].start_pfn < e) {
			pr_err("numa: node %d range %#lx..%#lx overlaps node %d; ignored\n", nid,
			       (unsigned long)start, (unsigned long)end, numa_blks[i].nid);
			return -1;
		}
	}
	if (nr_numa_blks == NUMA_MAX_BLKS) {
		pr_err("numa: more than %d memory ranges; node %d range ignored\n", NUMA_MAX_BLKS,
		       nid);
		return -1;
	}
	numa_blks[nr_numa_blks].start_pfn = s;
	numa_blks[nr_numa_blks].end_pfn = e;
	numa_blks[nr_numa_blks].nid = nid;
	nr_numa_blks++;
	return 0;
}

int numa_pfn_to_nid(uint64_t pfn)
{
	for (int i = 0; i < nr_numa_blks; i++) {
		if (pfn >= numa_blks[i].start_pfn && pfn < numa_blks[i].end_pfn)
			return numa_blks[i].nid;
	}
	return 0;
}

uint64_t numa_run_end(uint64_t pfn)
{
	uint64_t end = UINT64_MAX;

	for (int i = 0; i < nr_numa_blks; i++) {
		if (pfn >= numa_blks[i].start_pfn && pfn < numa_blks[i].end_pfn)
			return numa_blks[i].end_pfn;
		if (numa_blks[i].start_pfn > pfn)
			end = MIN(end, numa_blks[i].start_pfn);
	}
	return end;
}

int numa_distance(int from, int to)
{
	if (!nid_in_range(from) || !nid_in_range(to))
		return 255;
	if (numa_dist[from][to])
		return numa_dist[from][to];
	return from == to ? NUMA_LOCAL_DISTANCE : NUMA_REMOTE_DISTANCE;
}

bool numa_node_online(int nid)
{
	return nid_in_range(nid) && mem_nodes[nid].online;
}

void build_fallback_lists(void)
{
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		struct mem_node *n = &mem_nodes[nid];

		n->nr_fallback = 0;
		for (int m = 0; m < MAX_NUMNODES; m++) {
			int i;

			if (!mem_nodes[m].online)
				continue;
			/* Insertion sort: nodes are few. Self first on equal distance. */
			i = n->nr_fallback++;
			while (i > 0) {
				int prev = n->fallback[i - 1];
				int dp = numa_distance(nid, prev), dm = numa_distance(nid, m);

				if (dp < dm || (dp == dm && (prev == nid || m != nid)))
					break;
				n->fallback[i] = prev;
				i--;
			}
			n->fallback[i] = m;
		}
	}
}

int numa_set_distance(int from, int to, int distance)
{
	if (!nid_in_range(from) || !nid_in_range(to) || distance < NUMA_LOCAL_DISTANCE ||
	    distance > 254 || (from == to && distance != NUMA_LOCAL_DISTANCE)) {
		pr_err("numa: bad distance %d from node %d to node %d; ignored\n", distance, from,
		       to);
		return -1;
	}
	numa_dist[from][to] = (uint8_t)distance;
	build_fallback_lists();
	return 0;
}

int numa_fallback_order(int nid, int *order)
{
	if (!nid_in_range(nid))
		return 0;
	for (int i = 0; i < mem_nodes[nid].nr_fallback; i++)
		order[i] = mem_nodes[nid].fallback[i];
	return mem_nodes[nid].nr_fallback;
}
