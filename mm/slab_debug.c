/*
 * Slab misuse detection: slab_report() and its hook, and the SLAB_DEBUG checks (poisoning, red
 * zones, double frees, bad pointers) that mm/slab.c calls at the API boundary. No data of its
 * own besides slab_report_hook; the slot headers it reads belong to whoever holds the object.
 */
#include "mm/slab_internal.h"
#include "kernel/panic.h"
#include "kernel/string.h"

void (*slab_report_hook)(const char *cache, const void *obj, const char *what);

void slab_report(const struct kmem_cache *c, const void *obj, const char *what)
{
	const char *name = c ? c->name : "(none)";

	if (slab_report_hook) {
		slab_report_hook(name, obj, what);
		return;
	}
	panic("slab: %s: cache %s, object %p", what, name, obj);
}

/* ---- debug checks (always compiled; mm/slab.c calls them only under SLAB_DEBUG) ---- */

static struct slab_meta *slot_meta(void *slot)
{
	return slot;
}

/* First byte in [p, p+n) that is not v, or NULL. */
const uint8_t *find_not(const void *p, size_t n, uint8_t v)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != v)
			return b + i;
	return NULL;
}

static void debug_fill_red_zones(struct kmem_cache *c, void *slot)
{
	char *s = slot;

	memset(s + sizeof(struct slab_meta), SLAB_RED_ZONE, c->obj_off - sizeof(struct slab_meta));
	memset(s + c->obj_off + c->size, SLAB_RED_ZONE, c->stride - c->obj_off - c->size);
}

/* Reports and repairs an overwritten red zone. */
static void debug_check_red_zones(struct kmem_cache *c, void *slot)
{
	char *s = slot;

	if (find_not(s + sizeof(struct slab_meta), c->obj_off - sizeof(struct slab_meta),
		     SLAB_RED_ZONE)) {
		slab_report(c, s + c->obj_off, "red zone before object overwritten (underflow)");
		debug_fill_red_zones(c, slot);
	}
	if (find_not(s + c->obj_off + c->size, c->stride - c->obj_off - c->size, SLAB_RED_ZONE)) {
		slab_report(c, s + c->obj_off, "red zone after object overwritten (overflow)");
		debug_fill_red_zones(c, slot);
	}
}

void debug_init_slot(struct kmem_cache *c, void *slot)
{
	slot_meta(slot)->state = SLAB_STATE_FREE;
	debug_fill_red_zones(c, slot);
	memset((char *)slot + c->obj_off, SLAB_POISON_FREE, c->size);
}

void debug_on_alloc(struct kmem_cache *c, void *slot)
{
	struct slab_meta *m = slot_meta(slot);
	void *obj = (char *)slot + c->obj_off;

	if (m->state != SLAB_STATE_FREE)
		slab_report(c, obj, "allocating an object that is not free (free list corrupted)");
	if (find_not(obj, c->size, SLAB_POISON_FREE))
		slab_report(c, obj, "object written after it was freed (poison damaged)");
	debug_check_red_zones(c, slot);
	m->state = SLAB_STATE_LIVE;
}

/* Returns false if the free must not go ahead (the problem has been reported). */
bool debug_on_free(struct kmem_cache *c, const void *obj)
{
	struct page *head = slab_head_of(obj);
	uintptr_t base, off;
	struct slab_meta *m;
	void *slot;

	if (!head) {
		slab_report(c, obj, "freeing a pointer that is not in a slab");
		return false;
	}
	if (head->slab.cache != c) {
		slab_report(c, obj, "freeing an object to the wrong cache");
		return false;
	}
	base = (uintptr_t)page_address(head);
	off = (uintptr_t)obj - base;
	if (off < c->obj_off || (off - c->obj_off) % c->stride != 0 ||
	    (off - c->obj_off) / c->stride >= head->slab.objects) {
		slab_report(c, obj, "freeing a pointer that is not the start of an object");
		return false;
	}
	slot = (char *)obj - c->obj_off;
	m = slot_meta(slot);
	if (m->state == SLAB_STATE_FREE) {
		slab_report(c, obj, "double free");
		return false;
	}
	if (m->state != SLAB_STATE_LIVE) {
		slab_report(c, obj, "object header corrupted (state word overwritten)");
		return false;
	}
	debug_check_red_zones(c, slot);
	m->state = SLAB_STATE_FREE;
	memset((char *)slot + c->obj_off, SLAB_POISON_FREE, c->size);
	return true;
}
