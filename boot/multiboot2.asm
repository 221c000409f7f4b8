; The multiboot2 header: tells GRUB this is a multiboot2 kernel and what it wants.
; It must lie 8-byte aligned within the first 32 KiB of the file; linker.ld puts it first.

MB2_MAGIC       equ 0xe85250d6
MB2_ARCH_I386   equ 0
MB2_TAG_OPTIONAL equ 1

section .multiboot
align 8
mb2_header_start:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header_start
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header_start))

	; Framebuffer request. Optional: when GRUB cannot give one (or hands over EGA text on a
	; BIOS machine) Augur falls back to VGA text mode, so booting never fails for want of it.
	align 8
	dw 5, MB2_TAG_OPTIONAL
	dd 20
	dd 1024, 768, 32

	; Load modules (the initrd) on page boundaries, so they can be mapped and freed by page.
	align 8
	dw 6, 0
	dd 8

	align 8
	dw 0, 0
	dd 8
mb2_header_end:
