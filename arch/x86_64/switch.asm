; Context switch between kernel threads (kernel/sched.c owns the callers). Only the
; callee-saved registers need saving: switch_to is an ordinary call, so the compiler has
; already spilled everything else. The interrupt flag is off across the switch.

bits 64
section .text

extern thread_entry

; void switch_to(uint64_t *prev_rsp_slot /* rdi */, uint64_t next_rsp /* rsi */)
; Saves the callee-saved registers on the current stack, stores RSP in *prev_rsp_slot,
; loads next_rsp and pops the next thread's registers; the final ret resumes it wherever it
; called switch_to itself (or in thread_trampoline for a new thread).
global switch_to
switch_to:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov [rdi], rsp
	mov rsp, rsi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; First code of every new thread: thread_setup_stack() leaves this as the return address of
; the initial frame. RSP is then the stack top (16-byte aligned), so the call gives
; thread_entry the ABI's alignment. rbp = 0 ends backtraces here.
global thread_trampoline
thread_trampoline:
	xor ebp, ebp
	call thread_entry
	ud2
