; call_on_stack(fn, arg, stack_top): runs fn(arg) on another stack and returns its result.
; The caller's RBP is saved on the old stack and becomes the new stack's first frame link, so
; a backtrace taken on the new stack walks on into the caller's.

bits 64
section .text
global call_on_stack
call_on_stack:
	push rbp
	mov rbp, rsp
	mov rsp, rdx            ; the new stack (16-byte aligned: kstack tops are page-aligned)
	mov rax, rdi
	mov rdi, rsi
	call rax
	mov rsp, rbp
	pop rbp
	ret
