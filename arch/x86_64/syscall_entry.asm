; The way into the kernel from the syscall instruction, and the one way back to user mode that
; system calls, interrupts and exceptions from ring 3, and new user threads all share.
;
; syscall leaves RSP, CS/SS semantics and GS as user mode had them: it only loads CS/SS from
; STAR, saves RIP in RCX and RFLAGS in R11, and clears the RFLAGS bits in FMASK (IF among
; them, so nothing interrupts the entry before it has a stack). The entry swaps in the
; kernel's GS base, parks the user RSP in the per-CPU area, takes the thread's kernel stack and
; builds a struct trap_frame (arch/x86_64/trap.h) at its very top, exactly where an interrupt
; from ring 3 would (the TSS's rsp0 is the same stack top), so thread_user_frame() finds the
; user registers there whichever way the thread entered.
;
; The per-CPU and frame offsets below are checked against the C structs in arch/x86_64/user.c.

bits 64

extern do_syscall, exit_to_user_mode, user_return_bad_rip
global syscall_entry, return_to_user, user_exit_path

PERCPU_KSTACK equ 64            ; offsetof(struct percpu, kernel_stack_top)
PERCPU_URSP   equ 72            ; offsetof(struct percpu, user_rsp_scratch)

F_R11    equ 4 * 8
F_RCX    equ 12 * 8
F_RIP    equ 17 * 8
F_CS     equ 18 * 8
F_RFLAGS equ 19 * 8
F_RSP    equ 20 * 8
F_SS     equ 21 * 8

USER_CS  equ 0x23
USER_DS  equ 0x1b
TRAP_VECTOR_SYSCALL equ 0x100

RFLAGS_TF equ 1 << 8
RFLAGS_IF equ 1 << 9
RFLAGS_RF equ 1 << 16
; What user mode may hold in RFLAGS: the arithmetic flags, TF, DF, NT, RF, AC and ID. Never
; IOPL (port access), VM, VIF or VIP, whatever a signal frame restored.
RFLAGS_USER equ 0x254dd5
; sysret to a non-canonical RIP faults in ring 0 on the user stack (and on Intel CPUs the
; boundary page itself is treated as unsafe): anything at or above this goes by iretq.
SYSRET_RIP_LIMIT equ 0x00007ffffffff000

section .text

%include "arch/x86_64/trap_regs.inc"

align 16
syscall_entry:
	swapgs
	mov [gs:PERCPU_URSP], rsp
	mov rsp, [gs:PERCPU_KSTACK]
	push qword USER_DS              ; ss
	push qword [gs:PERCPU_URSP]     ; rsp
	push r11                        ; rflags
	push qword USER_CS              ; cs
	push rcx                        ; rip
	push rax                        ; error_code: the system call number
	push qword TRAP_VECTOR_SYSCALL  ; vector
	PUSH_REGS
	xor ebp, ebp                    ; backtraces end here: RBP is a user value
	mov rdi, rsp
	sti                             ; the frame is complete: interrupts and preemption are fine
	call do_syscall
	; fall through

; The common exit. RSP = the struct trap_frame at the top of the kernel stack, interrupts in
; any state. Runs exit_to_user_mode() (signals, rescheduling) with interrupts off, makes sure
; the frame can only return to ring 3 whatever that code wrote into it, and leaves by sysretq
; where that gives the same result as iretq, else by iretq.
align 16
user_exit_path:
	cli
	xor ebp, ebp
	mov rdi, rsp
	call exit_to_user_mode
	mov qword [rsp + F_CS], USER_CS
	mov qword [rsp + F_SS], USER_DS
	and qword [rsp + F_RFLAGS], RFLAGS_USER
	or qword [rsp + F_RFLAGS], RFLAGS_IF | 2
	mov rax, [rsp + F_RIP]
	mov rcx, rax
	shl rcx, 16
	sar rcx, 16
	cmp rcx, rax
	jne .bad_rip                    ; iretq would #GP in ring 0 with the user's GS loaded
	; sysretq sets RIP = RCX and RFLAGS = R11 (minus RF): usable only if those already
	; hold the frame's RIP and RFLAGS, which is the rule after a system call.
	cmp rax, [rsp + F_RCX]
	jne .iret
	mov rcx, SYSRET_RIP_LIMIT
	cmp rax, rcx
	jae .iret
	mov r11, [rsp + F_RFLAGS]
	cmp r11, [rsp + F_R11]
	jne .iret
	; sysret cannot restore RF, and with TF the single-step trap would come at once.
	test r11, RFLAGS_TF | RFLAGS_RF
	jnz .iret
	POP_REGS
	mov rsp, [rsp + F_RSP - 15 * 8] ; the user stack; NMI and #MC use IST stacks
	swapgs
	o64 sysret
.iret:
	POP_REGS
	add rsp, 16                     ; vector and error code
	swapgs
	iretq
.bad_rip:
	mov rdi, rsp
	call user_return_bad_rip        ; turns it into a #GP for the thread (arch/x86_64/traps.c)
	jmp user_exit_path

; void return_to_user(struct trap_frame *f): f is the frame at the top of this thread's kernel
; stack; whatever the stack held above RSP is abandoned.
align 16
return_to_user:
	mov rsp, rdi
	jmp user_exit_path
