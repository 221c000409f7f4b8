; Entry stubs for all 256 interrupt vectors, and the common path that builds a struct
; trap_frame (arch/x86_64/trap.h) and calls trap_dispatch(frame).
;
; Each stub makes the stack look the same whatever the vector: it pushes a dummy error code
; when the CPU pushes none, then the vector number. The common path pushes the registers in
; the reverse of struct trap_frame's field order, so RSP then points at the struct.
;
; GS: in ring 3 the GS base is the user's and MSR_KERNEL_GS_BASE holds the per-CPU area, so
; an entry from ring 3 (the saved CS has RPL 3) runs swapgs first, and the way back swaps again
; (in user_exit_path, arch/x86_64/syscall_entry.asm, after exit_to_user_mode()).
;
; NMI, #DF and #MC cannot trust the saved CS: they may arrive in the few kernel instructions
; that run with the user's GS base (syscall_entry before its swapgs, the exit paths after
; theirs). They go through trap_paranoid, which asks the MSR instead: a GS base that is not a
; kernel (negative) address is the user's. arch_prctl refuses kernel addresses as GS bases, so
; user mode cannot fake one. These vectors never run exit_to_user_mode(): they are on IST
; stacks, where sleeping or switching threads is impossible.

bits 64
default rel

extern trap_dispatch, user_exit_path, uaccess_use_stac
global trap_stub_table, trap_common, trap_paranoid

; Vectors for which the CPU pushes an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP,
; #VC, #SX.
%define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
			  (v) == 29 || (v) == 30)

; Vectors whose entry cannot go by the saved CS (see above).
%define PARANOID(v) ((v) == 2 || (v) == 8 || (v) == 18)

; Offset of the interrupted RIP from the start of struct trap_frame: 15 registers, vector,
; error code; CS follows it.
FRAME_RIP equ 17 * 8
FRAME_CS  equ 18 * 8

MSR_GS_BASE equ 0xc0000101

; With SMAP, an interrupt inside a user-memory copy arrives with RFLAGS.AC set (the CPU does
; not clear it): clear it so the handler, and any thread it switches to, runs with SMAP
; enforced. iretq restores the interrupted AC.
%macro CLAC_IF_SMAP 0
	cmp byte [uaccess_use_stac], 0
	je %%skip
	clac
%%skip:
%endmacro

%include "arch/x86_64/trap_regs.inc"

section .text

%assign vec 0
%rep 256
align 16
trap_stub_%[vec]:
%if HAS_ERROR(vec) == 0
	push 0
%endif
	push vec
%if PARANOID(vec)
	jmp trap_paranoid
%else
	jmp trap_common
%endif
%assign vec vec + 1
%endrep

align 16
trap_common:
	test byte [rsp + 24], 3         ; CS, above the vector, error code and RIP
	jz .from_kernel
	swapgs
.from_kernel:
	PUSH_REGS
	cld                             ; the C ABI expects DF clear on entry to a function
	CLAC_IF_SMAP
	mov rdi, rsp                    ; struct trap_frame *
	; A fake call frame (saved rbp, return address) made of the interrupted rbp and rip, so a
	; backtrace taken inside the handler walks on into the interrupted code.
	push qword [rdi + FRAME_RIP]
	push rbp
	mov rbp, rsp
	and rsp, -16                    ; the ABI wants a 16-byte aligned stack at the call
	call trap_dispatch
	lea rsp, [rbp + 16]             ; the frame
	test byte [rsp + FRAME_CS], 3
	jnz user_exit_path              ; signals, rescheduling, swapgs: the shared way out
	POP_REGS
	add rsp, 16                     ; vector and error code
	iretq

align 16
trap_paranoid:
	PUSH_REGS
	cld
	CLAC_IF_SMAP
	; RBX (saved in the frame, restored at the end) remembers whether we swapped.
	xor ebx, ebx
	mov ecx, MSR_GS_BASE
	rdmsr
	test edx, edx
	js .gs_is_kernel
	swapgs
	mov ebx, 1
.gs_is_kernel:
	mov rdi, rsp
	push qword [rdi + FRAME_RIP]
	push rbp
	mov rbp, rsp
	and rsp, -16
	call trap_dispatch
	lea rsp, [rbp + 16]
	test ebx, ebx
	jz .no_swap
	swapgs
.no_swap:
	POP_REGS
	add rsp, 16
	iretq

section .rodata
align 8
trap_stub_table:
%assign vec 0
%rep 256
	dq trap_stub_%[vec]
%assign vec vec + 1
%endrep
