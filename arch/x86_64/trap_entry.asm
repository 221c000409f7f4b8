; Entry stubs for all 256 interrupt vectors, and the common path that builds a struct
; trap_frame (arch/x86_64/trap.h) and calls trap_dispatch(frame).
;
; Each stub makes the stack look the same whatever the vector: it pushes a dummy error code
; when the CPU pushes none, then the vector number. The common path pushes the registers in
; the reverse of struct trap_frame's field order, so RSP then points at the struct.
;
; No swapgs yet: nothing runs in user mode. The user-space issue adds it here (CS & 3 test).

bits 64
default rel

extern trap_dispatch
global trap_stub_table, trap_common

; Vectors for which the CPU pushes an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP,
; #VC, #SX.
%define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
			  (v) == 29 || (v) == 30)

; Offset of the interrupted RIP from the start of struct trap_frame: 15 registers, vector,
; error code.
FRAME_RIP equ 17 * 8

section .text

%assign vec 0
%rep 256
align 16
trap_stub_%[vec]:
%if HAS_ERROR(vec) == 0
	push 0
%endif
	push vec
	jmp trap_common
%assign vec vec + 1
%endrep

align 16
trap_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld                             ; the C ABI expects DF clear on entry to a function
	mov rdi, rsp                    ; struct trap_frame *
	; A fake call frame (saved rbp, return address) made of the interrupted rbp and rip, so a
	; backtrace taken inside the handler walks on into the interrupted code.
	push qword [rdi + FRAME_RIP]
	push rbp
	mov rbp, rsp
	and rsp, -16                    ; the ABI wants a 16-byte aligned stack at the call
	call trap_dispatch
	lea rsp, [rbp + 16]
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16                     ; vector and error code
	iretq

section .rodata
align 8
trap_stub_table:
%assign vec 0
%rep 256
	dq trap_stub_%[vec]
%assign vec vec + 1
%endrep
