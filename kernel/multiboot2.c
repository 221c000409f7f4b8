/*
 * Multiboot2 boot-information parsing. The block comes from the boot loader and is trusted
 * only after mb2_validate() has walked every tag inside its stated size: a damaged block is
 * reported instead of being followed off the end. Pure code, also host-tested.
 */
#include "kernel/multiboot2.h"

#define MB2_MAX_TOTAL_SIZE (1U << 24) /* far above anything GRUB produces */

const char *mb2_validate(const void *info)
{
	const struct mb2_info *hdr = info;
	uint32_t off = sizeof(*hdr);

	if ((uintptr_t)info & 7)
		return "boot information is not 8-byte aligned";
	if (hdr->total_size < sizeof(*hdr) + sizeof(struct mb2_tag) ||
	    hdr->total_size > MB2_MAX_TOTAL_SIZE)
		return "boot information has an impossible total size";
	while (off + sizeof(struct mb2_tag) <= hdr->total_size) {
		const struct mb2_tag *tag = (const void *)((const char *)info + off);

		if (tag->size < sizeof(*tag) || tag->size > hdr->total_size - off)
			return "a boot information tag runs past the end of the block";
		if (tag->type == MB2_TAG_END)
			return tag->size == sizeof(*tag) ? NULL : "malformed end tag";
		off += ALIGN_UP(tag->size, 8);
	}
	return "boot information has no end tag";
}

const struct mb2_tag *mb2_find_tag(const void *info, uint32_t type)
{
	const struct mb2_tag *tag;

	for_each_mb2_tag (info, tag)
		if (tag->type == type)
			return tag;
	return NULL;
}
