; 32-bit entry from GRUB (multiboot2) and the switch to 64-bit long mode.
;
; GRUB leaves us in 32-bit protected mode, paging off, interrupts off, EAX = multiboot2 magic,
; EBX = physical address of the boot information. This code runs at its physical address
; (linker.ld links .boot there), builds the first page tables, enables long mode and NX, and
; jumps to kmain() in the higher half. The tables it builds:
;   PML4[0]   identity map of the first 1 GiB (2 MiB pages), only so the next instruction after
;             enabling paging still runs; kmain() removes it;
;   PML4[256] direct map of physical 0..4 GiB at DIRECT_MAP_BASE (2 MiB pages, NX);
;   PML4[511] the kernel image at KERNEL_VMA + phys with 4 KiB pages and per-section rights;
;             the page below the boot stack is left unmapped as a guard.

%include "boot/layout.inc"

MB2_BOOT_MAGIC  equ 0x36d76289
PTE_P           equ 1 << 0
PTE_W           equ 1 << 1
PTE_PS          equ 1 << 7
KERNEL_PT_COUNT equ 8                   ; 8 page tables map 16 MiB of kernel image
DIRECT_MAP_PDS  equ 4                   ; 4 page directories map 4 GiB

%define PHYS(sym) ((sym) - KERNEL_VMA)

extern kmain
extern _kernel_start, _text_end, _rodata_end, _kernel_end, _bss_start, _bss_end
global _start32, boot_stack_guard, boot_stack_top

section .boot.text
bits 32
_start32:
	cli
	cld
	mov esp, early_stack_top
	mov [early_magic], eax          ; CPUID and the table loops clobber every register,
	mov [early_mbi], ebx            ; so keep what GRUB handed us in memory

	cmp eax, MB2_BOOT_MAGIC
	mov esi, msg_no_multiboot
	jne early_fail

	; CPUID exists if EFLAGS.ID (bit 21) can be toggled.
	pushfd
	pop eax
	mov ecx, eax
	xor eax, 1 << 21
	push eax
	popfd
	pushfd
	pop eax
	push ecx
	popfd
	cmp eax, ecx
	mov esi, msg_no_long_mode
	je early_fail

	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb early_fail
	mov eax, 0x80000001
	cpuid
	test edx, 1 << 29               ; LM
	jz early_fail
	xor eax, eax
	test edx, 1 << 20               ; NX: only then may bit 63 be set in an entry
	jz .no_nx
	mov eax, 0x80000000
.no_nx:
	mov [nx_high], eax

	; Zero the kernel's .bss (GRUB zeroes segment tails, but say it rather than trust it)
	; and the boot page tables.
	mov edi, PHYS(_bss_start)
	mov ecx, PHYS(_bss_end)
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd
	mov edi, boot_tables_start
	mov ecx, (boot_tables_end - boot_tables_start) / 4
	rep stosd

	; PML4
	mov eax, boot_pdpt_ident
	or eax, PTE_P | PTE_W
	mov [boot_pml4], eax
	mov eax, boot_pdpt_direct
	or eax, PTE_P | PTE_W
	mov [boot_pml4 + 256 * 8], eax
	mov eax, boot_pdpt_high
	or eax, PTE_P | PTE_W
	mov [boot_pml4 + 511 * 8], eax

	; Identity map of the first GiB, executable: this code runs from it for a few instructions.
	mov eax, boot_pd_ident
	or eax, PTE_P | PTE_W
	mov [boot_pdpt_ident], eax
	xor ecx, ecx
.ident_loop:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P | PTE_W | PTE_PS
	mov [boot_pd_ident + ecx * 8], eax
	inc ecx
	cmp ecx, 512
	jb .ident_loop

	; Direct map of 0..4 GiB, NX.
	xor ecx, ecx
.direct_pdpt_loop:
	mov eax, ecx
	shl eax, 12
	add eax, boot_pd_direct
	or eax, PTE_P | PTE_W
	mov [boot_pdpt_direct + ecx * 8], eax
	inc ecx
	cmp ecx, DIRECT_MAP_PDS
	jb .direct_pdpt_loop
	xor ecx, ecx
	mov edx, [nx_high]
.direct_pd_loop:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P | PTE_W | PTE_PS
	mov [boot_pd_direct + ecx * 8], eax
	mov [boot_pd_direct + ecx * 8 + 4], edx
	inc ecx
	cmp ecx, DIRECT_MAP_PDS * 512
	jb .direct_pd_loop

	; Kernel image: PDPT[510] -> PD; PD[1..8] -> the kernel page tables (virtual
	; 0xffffffff80200000 is PD index 1, matching KERNEL_PHYS = 2 MiB).
	mov eax, boot_pd_high
	or eax, PTE_P | PTE_W
	mov [boot_pdpt_high + 510 * 8], eax
	xor ecx, ecx
.high_pd_loop:
	mov eax, ecx
	shl eax, 12
	add eax, boot_pt_kernel
	or eax, PTE_P | PTE_W
	mov [boot_pd_high + 8 + ecx * 8], eax
	inc ecx
	cmp ecx, KERNEL_PT_COUNT
	jb .high_pd_loop

	; One 4 KiB entry per page of the image, with the rights of the section it holds.
	mov ecx, PHYS(_kernel_start)
.kernel_pte_loop:
	mov ebx, ecx
	sub ebx, 0x200000
	shr ebx, 12                     ; EBX = index into the kernel page tables
	cmp ecx, PHYS(boot_stack_guard)
	je .kernel_pte_next             ; guard page: leave not-present
	mov eax, ecx
	or eax, PTE_P
	xor edx, edx
	cmp ecx, PHYS(_text_end)
	jb .kernel_pte_store            ; text: read-only, executable
	mov edx, [nx_high]
	cmp ecx, PHYS(_rodata_end)
	jb .kernel_pte_store            ; rodata: read-only, NX
	or eax, PTE_W                   ; data, bss: writable, NX
.kernel_pte_store:
	mov [boot_pt_kernel + ebx * 8], eax
	mov [boot_pt_kernel + ebx * 8 + 4], edx
.kernel_pte_next:
	add ecx, 4096
	cmp ecx, PHYS(_kernel_end)
	jb .kernel_pte_loop

	; Enable PAE and global pages, load CR3, then long mode (+NX) in EFER, then paging.
	mov eax, cr4
	or eax, (1 << 5) | (1 << 7)
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax
	mov ecx, 0xc0000080
	rdmsr
	or eax, 1 << 8                  ; EFER.LME
	cmp dword [nx_high], 0
	je .no_nxe
	or eax, 1 << 11                 ; EFER.NXE
.no_nxe:
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16) | 1 ; PG, WP (kernel honours read-only pages), PE
	mov cr0, eax

	lgdt [boot_gdt_ptr]
	jmp 0x08:long_mode_entry

; Print the zero-terminated string at ESI to COM1 and the VGA text screen, then halt forever.
; Used only when the machine cannot run Augur at all, before any C code exists.
early_fail:
	mov edi, 0xb8000
.next_char:
	lodsb
	test al, al
	jz .halt
	mov ah, 0x4f                    ; white on red
	mov [edi], ax
	add edi, 2
	mov bl, al
	mov ecx, 100000                 ; bounded wait: a missing UART must not hang us
	mov dx, 0x3fd
.wait_uart:
	in al, dx
	test al, 0x20
	jnz .send
	loop .wait_uart
.send:
	mov dx, 0x3f8
	mov al, bl
	out dx, al
	jmp .next_char
.halt:
	hlt
	jmp .halt

bits 64
long_mode_entry:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	xor ebp, ebp                    ; a zero frame pointer ends every backtrace
	mov edi, [early_magic]          ; kmain(magic, boot-info physical address);
	mov esi, [early_mbi]            ; 32-bit loads zero the upper halves
	mov rax, kmain
	call rax
.hang:
	cli
	hlt
	jmp .hang

section .boot.data
align 16
boot_gdt:
	dq 0
	dq 0x00af9a000000ffff           ; 0x08: 64-bit code, DPL 0
	dq 0x00cf92000000ffff           ; 0x10: data, DPL 0
boot_gdt_end:
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dd boot_gdt
nx_high:
	dd 0
early_magic:
	dd 0
early_mbi:
	dd 0
msg_no_multiboot:
	db "Augur: not started by a multiboot2 loader; halting.", 0
msg_no_long_mode:
	db "Augur: this CPU cannot run 64-bit code (no long mode); halting.", 0

section .boot.bss nobits
align 4096
boot_tables_start:
boot_pml4:        resb 4096
boot_pdpt_ident:  resb 4096
boot_pd_ident:    resb 4096
boot_pdpt_direct: resb 4096
boot_pd_direct:   resb 4096 * DIRECT_MAP_PDS
boot_pdpt_high:   resb 4096
boot_pd_high:     resb 4096
boot_pt_kernel:   resb 4096 * KERNEL_PT_COUNT
boot_tables_end:
early_stack:      resb 1024
early_stack_top:

section .bss
align 4096
boot_stack_guard: resb 4096
boot_stack:       resb BOOT_STACK_SIZE
boot_stack_top:
