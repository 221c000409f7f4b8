/*
 * The multiboot2 boot information GRUB hands to the kernel: a size-prefixed list of tags.
 * Layouts follow the Multiboot2 specification, section 3.6.
 */
#ifndef KERNEL_MULTIBOOT2_H
#define KERNEL_MULTIBOOT2_H

#include "kernel/compiler.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289

enum mb2_tag_type {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_BOOTLOADER = 2,
	MB2_TAG_MODULE = 3,
	MB2_TAG_BASIC_MEMINFO = 4,
	MB2_TAG_MMAP = 6,
	MB2_TAG_FRAMEBUFFER = 8,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
	MB2_TAG_EFI64_SYSTEM_TABLE = 12,
	MB2_TAG_EFI_BS_NOT_TERMINATED = 18,
	MB2_TAG_LOAD_BASE = 21,
};

struct mb2_info {
	uint32_t total_size;
	uint32_t reserved;
} __packed;

struct mb2_tag {
	uint32_t type;
	uint32_t size; /* includes this header; the next tag starts 8-byte aligned after it */
} __packed;

struct mb2_tag_string { /* cmdline, boot loader name */
	struct mb2_tag tag;
	char string[];
} __packed;

struct mb2_tag_module {
	struct mb2_tag tag;
	uint32_t mod_start; /* physical */
	uint32_t mod_end;
	char cmdline[];
} __packed;

#define MB2_MMAP_AVAILABLE	  1
#define MB2_MMAP_RESERVED	  2
#define MB2_MMAP_ACPI_RECLAIMABLE 3
#define MB2_MMAP_ACPI_NVS	  4
#define MB2_MMAP_BADRAM		  5

struct mb2_mmap_entry {
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
	uint32_t reserved;
} __packed;

struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
	/* entries of entry_size bytes follow (at least sizeof(struct mb2_mmap_entry)) */
} __packed;

#define MB2_FB_TYPE_INDEXED  0
#define MB2_FB_TYPE_RGB	     1
#define MB2_FB_TYPE_EGA_TEXT 2

struct mb2_tag_framebuffer {
	struct mb2_tag tag;
	uint64_t addr; /* physical */
	uint32_t pitch;
	uint32_t width;
	uint32_t height;
	uint8_t bpp;
	uint8_t type;
	uint16_t reserved;
	/* for MB2_FB_TYPE_RGB: */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
} __packed;

struct mb2_tag_acpi { /* ACPI_OLD carries an RSDP v1, ACPI_NEW an RSDP v2 copy */
	struct mb2_tag tag;
	uint8_t rsdp[];
} __packed;

/*
 * Checks that the information block is well formed (sizes consistent, every tag inside the
 * block, an end tag present). Returns NULL if so, else a message saying what is wrong.
 */
const char *mb2_validate(const void *info);

/* Returns the first tag of the given type, or NULL. The block must have passed mb2_validate. */
const struct mb2_tag *mb2_find_tag(const void *info, uint32_t type);

/* Iterates over every tag; `tag` is a const struct mb2_tag *. */
#define for_each_mb2_tag(info, tag)                                                          \
	for (tag = (const struct mb2_tag *)((const char *)(info) + sizeof(struct mb2_info)); \
	     tag->type != MB2_TAG_END;                                                       \
	     tag = (const struct mb2_tag *)((const char *)tag + ALIGN_UP(tag->size, 8)))

#endif
