; The AP start-up trampoline: real mode -> 32-bit protected mode -> long mode -> the kernel.
;
; A started CPU (an AP) wakes from the SIPI in 16-bit real mode at CS:IP = (page << 8):0000,
; so this code must sit in a page below 1 MiB. It is linked into .rodata as a blob between
; trampoline_start and trampoline_end that arch/x86_64/smp_boot.c copies to that page before
; each start-up. The code never uses its link-time address: in real mode every reference is an
; offset from CS (the page), and from protected mode on it adds the page's physical address,
; which it computes from CS itself. So the blob works at any page.
;
; The BSP fills the parameter block (trampoline_params, struct trampoline_params in
; smp_boot.c; keep the two in step) before each SIPI.
;
; Paging: the AP needs an identity mapping of this page for the instructions right after it
; enables paging, and the kernel's higher half to run C. smp_boot.c builds a private
; temporary PML4 for that (entry 0: this one page, identity; entries 256..511: copied from the
; kernel PML4) rather than adding a low mapping to the kernel PML4 itself. That keeps the shared
; kernel tables free of any lower-half or writable+executable entry at every moment (user
; address spaces copy the upper half, wx_check() walks it), and needs no TLB shootdown
; afterwards. The AP leaves the temporary tables as soon as it runs in the higher half
; (ap_start64 below loads the kernel's CR3).

%define CR0_PE   (1 << 0)
%define CR4_PAE  (1 << 5)
%define CR4_PGE  (1 << 7)
%define MSR_EFER 0xc0000080

; Selectors of the trampoline's own GDT (below). The AP loads the kernel's per-CPU GDT in
; ap_main() before it takes any interrupt.
%define SEL_CODE32 0x08
%define SEL_DATA   0x10
%define SEL_CODE64 0x18

; Offset of a label from the start of the blob: what real-mode code uses with DS = CS.
%define OFF(x) ((x) - trampoline_start)

global trampoline_start, trampoline_end, trampoline_params, trampoline_params_end
global ap_start64
extern ap_main

section .rodata.trampoline
align 16
bits 16
trampoline_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, OFF(tramp_stack_top)

	; Only one CPU may use the parameter block per start-up. A CPU that wakes late (after the
	; BSP gave up on it and moved on) finds the block already claimed and parks itself.
	mov eax, 0
	mov ecx, 1
	lock cmpxchg [OFF(p_claimed)], ecx
	jne park16

	mov byte [OFF(p_stage)], 1          ; reached real mode

	; EBX = physical address of this page, for everything that runs with flat segments.
	xor ebx, ebx
	mov bx, cs
	shl ebx, 4

	; The GDT pointer needs a linear address: patch it now that the page is known.
	lea eax, [ebx + OFF(tramp_gdt)]
	mov [OFF(tramp_gdtr) + 2], eax
	o32 lgdt [OFF(tramp_gdtr)]

	; Protected mode. The far return below is what loads CS from the new GDT; until then
	; the CPU keeps running 16-bit code with its real-mode segment caches, which is fine.
	push dword SEL_CODE32
	lea eax, [ebx + OFF(pm32)]
	push eax
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	o32 retf

park16:
	cli
	hlt
	jmp park16

bits 32
pm32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	lea esp, [ebx + OFF(tramp_stack_top)]
	mov byte [ebx + OFF(p_stage)], 2    ; reached protected mode

	; Long mode needs PAE paging; global pages as the kernel uses them. The rest of CR4
	; (SMEP, SMAP, ...) follows in ap_main(), in 64-bit mode where every bit is allowed.
	mov eax, cr4
	or eax, CR4_PAE | CR4_PGE
	mov cr4, eax
	mov eax, [ebx + OFF(p_temp_cr3)]
	mov cr3, eax

	; EFER as the BSP has it: LME (long mode on the next paging enable), NXE (the kernel's
	; tables use the NX bit: without NXE every such entry would be a reserved-bit fault).
	mov ecx, MSR_EFER
	mov eax, [ebx + OFF(p_efer)]
	mov edx, [ebx + OFF(p_efer) + 4]
	wrmsr

	; CR0 as the BSP has it: PG|PE turns on long mode, WP makes read-only pages binding for
	; the kernel too, and it clears CD/NW, which INIT left set (caches off).
	mov eax, [ebx + OFF(p_cr0)]
	mov cr0, eax

	; Now in compatibility mode (32-bit code, long mode active). Into the 64-bit segment:
	push dword SEL_CODE64
	lea eax, [ebx + OFF(lm64)]
	push eax
	retf

bits 64
lm64:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov byte [rel p_stage], 3           ; reached long mode (still on the low page)
	mov rsp, [rel p_stack_top]
	mov rdi, [rel p_cpu]
	mov rsi, [rel p_kernel_cr3]
	mov rax, [rel p_entry]
	jmp rax                             ; ap_start64, in the higher half

align 16
tramp_gdt:
	dq 0
	dq 0x00cf9a000000ffff               ; 0x08: 32-bit code, flat
	dq 0x00cf92000000ffff               ; 0x10: data, flat
	dq 0x00af9a000000ffff               ; 0x18: 64-bit code
tramp_gdt_end:
align 4
	dw 0                                ; so that the base below is 4-byte aligned
tramp_gdtr:
	dw tramp_gdt_end - tramp_gdt - 1
	dd 0                                ; base: patched at run time

; The parameter block, written by the BSP before each SIPI (struct trampoline_params).
align 64
trampoline_params:
p_claimed:     dd 0   ; 0 = free; the AP sets 1 (atomically); the BSP sets 2 to lock out
p_stage:       db 0   ; how far the AP got: 1 real, 2 protected, 3 long mode (diagnostics)
               db 0, 0, 0
p_temp_cr3:    dd 0   ; physical address of the temporary PML4 (below 4 GiB)
p_cr0:         dd 0   ; CR0 to load in protected mode (PG, PE, WP ...)
p_efer:        dq 0   ; EFER to load (LME, NXE ...; never LMA)
p_kernel_cr3:  dq 0   ; the kernel PML4, loaded once in the higher half
p_stack_top:   dq 0   ; top of this AP's kernel stack (higher half)
p_entry:       dq 0   ; address of ap_start64
p_cpu:         dq 0   ; the AP's CPU number, ap_main()'s argument
trampoline_params_end:

; A tiny stack for the real- and protected-mode far returns.
align 16
	times 64 db 0
tramp_stack_top:
trampoline_end:

; The first code of the AP in the kernel image proper. RDI = CPU number, RSI = kernel PML4.
; Leaving the temporary tables here means they can be rebuilt for the next AP at once.
section .text
bits 64
ap_start64:
	mov cr3, rsi
	xor ebp, ebp                        ; a zero frame pointer ends every backtrace
	call ap_main                        ; RSP is page-aligned: the ABI's alignment holds
.hang:
	cli
	hlt
	jmp .hang
