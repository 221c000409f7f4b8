; The instructions that touch user memory on the kernel's behalf (declared in
; arch/x86_64/uaccess_arch.h, called by mm/uaccess.c after it has checked the range).
;
; Each faulting instruction gets an exception-table entry {instruction, fixup} in section
; .extable (64-bit absolute addresses, collected by linker.ld between _extable_start and
; _extable_end). A kernel-mode #PF or #GP at a listed instruction that the page-fault path
; cannot fix resumes at the fixup, which reports the failure. A fault it can fix (demand
; paging, copy-on-write) simply restarts the instruction: rep movsb/stosb keep their progress
; in RCX/RSI/RDI, so a copy resumes where it stopped.
;
; With SMAP the CPU refuses kernel accesses to user pages unless RFLAGS.AC is set: stac sets it
; around each access, clac clears it on every way out, the fixups included. stac/clac do not
; exist without SMAP (#UD), hence the test of uaccess_use_stac instead of patching the code.

bits 64
default rel

%define EFAULT 14

extern uaccess_use_stac

; One exception-table entry: a fault at %1 resumes at %2.
%macro EXTABLE 2
[section .extable progbits alloc noexec nowrite align=8]
	dq %1, %2
__SECT__
%endmacro

%macro USER_BEGIN 0
	cmp byte [uaccess_use_stac], 0
	je %%no_smap
	stac
%%no_smap:
%endmacro

%macro USER_END 0
	cmp byte [uaccess_use_stac], 0
	je %%no_smap
	clac
%%no_smap:
%endmacro

section .text

; uint64_t arch_copy_user(void *dst, const void *src, uint64_t len): bytes not copied.
global arch_copy_user
arch_copy_user:
	mov rcx, rdx
	USER_BEGIN
.copy:
	rep movsb
	USER_END
	xor eax, eax
	ret
.fault:
	USER_END
	mov rax, rcx                    ; what rep movsb had left when it faulted
	ret
	EXTABLE .copy, .fault

; uint64_t arch_clear_user(void *dst, uint64_t len): bytes not zeroed.
global arch_clear_user
arch_clear_user:
	mov rcx, rsi
	xor eax, eax
	USER_BEGIN
.store:
	rep stosb
	USER_END
	xor eax, eax
	ret
.fault:
	USER_END
	mov rax, rcx
	ret
	EXTABLE .store, .fault

; long arch_strncpy_user(char *dst, const char *src, uint64_t count): length, count, -EFAULT.
global arch_strncpy_user
arch_strncpy_user:
	xor eax, eax                    ; bytes copied so far, the NUL excluded
	USER_BEGIN
.next:
	cmp rax, rdx
	je .done
.load:
	movzx ecx, byte [rsi + rax]
	mov [rdi + rax], cl
	test cl, cl
	jz .done
	inc rax
	jmp .next
.done:
	USER_END
	ret
.fault:
	USER_END
	mov rax, -EFAULT
	ret
	EXTABLE .load, .fault

; int arch_get_user_u64(uint64_t *val, const void *uaddr): 0 or -EFAULT.
global arch_get_user_u64
arch_get_user_u64:
	USER_BEGIN
.load:
	mov rax, [rsi]
	USER_END
	mov [rdi], rax
	xor eax, eax
	ret
.fault:
	USER_END
	mov eax, -EFAULT
	ret
	EXTABLE .load, .fault

; int arch_get_user_u32(uint32_t *val, const void *uaddr)
global arch_get_user_u32
arch_get_user_u32:
	USER_BEGIN
.load:
	mov eax, [rsi]
	USER_END
	mov [rdi], eax
	xor eax, eax
	ret
.fault:
	USER_END
	mov eax, -EFAULT
	ret
	EXTABLE .load, .fault

; int arch_put_user_u64(uint64_t val, void *uaddr)
global arch_put_user_u64
arch_put_user_u64:
	USER_BEGIN
.store:
	mov [rsi], rdi
	USER_END
	xor eax, eax
	ret
.fault:
	USER_END
	mov eax, -EFAULT
	ret
	EXTABLE .store, .fault

; int arch_put_user_u32(uint32_t val, void *uaddr)
global arch_put_user_u32
arch_put_user_u32:
	USER_BEGIN
.store:
	mov [rsi], edi
	USER_END
	xor eax, eax
	ret
.fault:
	USER_END
	mov eax, -EFAULT
	ret
	EXTABLE .store, .fault
