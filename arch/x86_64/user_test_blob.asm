; User-mode machine code for the ring-3 tests in arch/x86_64/user_test.c. It is data to the
; kernel: the test copies utest_blob_start..utest_blob_end into a user page and runs the entry
; points below in ring 3, so everything here is position-independent.
;
; Entry registers (set in the thread's first frame): RDI = 1 if the AVX registers are part of
; the saved state, RSI = the user data page (the stack is near its top). Each entry ends with
; the test "exit" system call: RDI = 0 if every check passed, else the number of the check
; that failed; the trap entries end in the trap instead.

bits 64

SYS_ARCH_PRCTL equ 158
ARCH_SET_GS    equ 0x1001
ARCH_SET_FS    equ 0x1002
ARCH_GET_FS    equ 0x1003
ARCH_GET_GS    equ 0x1004

; The test-only system calls (arch/x86_64/user_test.c).
SYS_ARGS     equ 500            ; records its six arguments, returns RET_ARGS
SYS_EXIT     equ 501            ; ends the thread with exit code RDI
SYS_SWITCH   equ 502            ; starts the clobber thread on this CPU and waits for it
SYS_SWITCHED equ 503            ; the clobber thread's signal that it has run
SYS_UACCESS  equ 504            ; kernel-side uaccess checks on (string RDI, buffer RSI)
SYS_BAD_RIP  equ 505            ; puts a non-canonical RIP into the return frame
SYS_SKIP     equ 506            ; returns 7 two bytes past the syscall (iretq path)
SYS_SPINNING equ 507            ; tells the kernel the thread now spins on DATA_FLAG
SYS_UNUSED   equ 511            ; registered by nobody: -ENOSYS

RET_ARGS  equ 0x600d600d600d600d
FS_VALUE  equ 0xf5f5f5f5f5f5f5f5
GS_VALUE  equ 0x6565656565656565
XMM_MAIN  equ 0x5ee5ee5ee5ee5ee5
XMM_OTHER equ 0xbad0bad0bad0bad0

; Offsets in the data page.
DATA_FS_MAIN  equ 0x100
DATA_FS_OTHER equ 0x180
DATA_GS_MAIN  equ 0x200
DATA_GS_OTHER equ 0x280
DATA_GET      equ 0x300
DATA_YMM      equ 0x400
DATA_FLAG     equ 0x800         ; the kernel test writes it while the thread spins

%macro SYS 1
	mov eax, %1
	syscall
%endmacro

; Unless the last comparison said equal, exit with check number %1.
%macro CHECK 1
	je %%ok
	mov edi, %1
	jmp fail
%%ok:
%endmacro

; %1 == the 64-bit constant %2 (RCX is the scratch).
%macro EXPECT 3
	mov rcx, %2
	cmp %1, rcx
	CHECK %3
%endmacro

section .rodata
align 16
global utest_blob_start, utest_blob_end
global utest_main, utest_clobber, utest_ud, utest_gp, utest_bp, utest_pf, utest_de
global utest_bad_rip

utest_blob_start:

utest_main:
	mov r15, rdi
	mov r14, rsi
	; Six arguments in; RAX out; only RCX and R11 may change besides RAX.
	mov rbx, 0x0123456789abcdef
	mov rbp, 0x1032547698badcfe
	mov r12, 0x2143658709cbedaf
	mov r13, 0x3254769801dcfeba
	mov rdi, 0x1111111111111111
	mov rsi, 0x2222222222222222
	mov rdx, 0x3333333333333333
	mov r10, 0x4444444444444444
	mov r8, 0x5555555555555555
	mov r9, 0x6666666666666666
	SYS SYS_ARGS
	EXPECT rax, RET_ARGS, 1
	EXPECT rdi, 0x1111111111111111, 2
	EXPECT rsi, 0x2222222222222222, 3
	EXPECT rdx, 0x3333333333333333, 4
	EXPECT r10, 0x4444444444444444, 5
	EXPECT r8, 0x5555555555555555, 6
	EXPECT r9, 0x6666666666666666, 7
	EXPECT rbx, 0x0123456789abcdef, 8
	EXPECT rbp, 0x1032547698badcfe, 9
	EXPECT r12, 0x2143658709cbedaf, 10
	EXPECT r13, 0x3254769801dcfeba, 11

	SYS SYS_UNUSED
	cmp rax, -38                    ; ENOSYS
	CHECK 12

	; FS and GS bases through arch_prctl, read back through the segment.
	mov rdi, ARCH_SET_FS
	lea rsi, [r14 + DATA_FS_MAIN]
	SYS SYS_ARCH_PRCTL
	test rax, rax
	CHECK 13
	mov rax, FS_VALUE
	mov [r14 + DATA_FS_MAIN], rax
	EXPECT qword [fs:0], FS_VALUE, 14
	mov rdi, ARCH_SET_GS
	lea rsi, [r14 + DATA_GS_MAIN]
	SYS SYS_ARCH_PRCTL
	test rax, rax
	CHECK 15
	mov rax, GS_VALUE
	mov [r14 + DATA_GS_MAIN], rax
	EXPECT qword [gs:0], GS_VALUE, 16
	mov rdi, ARCH_GET_FS
	lea rsi, [r14 + DATA_GET]
	SYS SYS_ARCH_PRCTL
	test rax, rax
	CHECK 17
	lea rax, [r14 + DATA_FS_MAIN]
	cmp [r14 + DATA_GET], rax
	CHECK 18
	mov rdi, ARCH_GET_GS
	lea rsi, [r14 + DATA_GET + 8]
	SYS SYS_ARCH_PRCTL
	test rax, rax
	CHECK 19
	lea rax, [r14 + DATA_GS_MAIN]
	cmp [r14 + DATA_GET + 8], rax
	CHECK 20
	; Refusals: a kernel base, a non-canonical base, an unknown code, a bad pointer.
	mov rdi, ARCH_SET_FS
	mov rsi, 0xffff800000000000
	SYS SYS_ARCH_PRCTL
	cmp rax, -1                     ; EPERM
	CHECK 21
	mov rdi, ARCH_SET_GS
	mov rsi, 0x0000800000000000
	SYS SYS_ARCH_PRCTL
	cmp rax, -1
	CHECK 22
	mov rdi, 0x1005
	SYS SYS_ARCH_PRCTL
	cmp rax, -22                    ; EINVAL
	CHECK 23
	mov rdi, ARCH_GET_FS
	mov rsi, 0xffffffff80000000
	SYS SYS_ARCH_PRCTL
	cmp rax, -14                    ; EFAULT
	CHECK 24
	EXPECT qword [fs:0], FS_VALUE, 25

	; SSE (and AVX) registers and FS/GS survive another user thread running on this CPU.
	mov rax, XMM_MAIN
	movq xmm0, rax
	test r15, r15
	jz .no_avx1
	vmovdqu ymm2, [rel pattern]
.no_avx1:
	SYS SYS_SWITCH
	test rax, rax
	CHECK 26
	movq rax, xmm0
	EXPECT rax, XMM_MAIN, 27
	test r15, r15
	jz .no_avx2
	vmovdqu [r14 + DATA_YMM], ymm2
	mov rax, [rel pattern + 24]
	cmp [r14 + DATA_YMM + 24], rax
	CHECK 28
	mov rax, [rel pattern + 16]
	cmp [r14 + DATA_YMM + 16], rax
	CHECK 29
.no_avx2:
	EXPECT qword [fs:0], FS_VALUE, 30
	EXPECT qword [gs:0], GS_VALUE, 31

	; The kernel's user-memory accessors on this address space.
	lea rdi, [rel hello]
	mov rsi, r14
	SYS SYS_UACCESS
	test rax, rax
	CHECK 32
	EXPECT qword [r14], 'kernel w', 33

	; A system call whose return RIP is not RCX goes back by iretq.
	SYS SYS_SKIP
	ud2                             ; skipped by the handler
	cmp rax, 7
	CHECK 34

	; Spin in ring 3 until the kernel test sets the flag: timer interrupts (and, with one
	; CPU, the switches to the test thread that sets it) arrive from user mode.
	mov rbx, 0x0123456789abcdef
	SYS SYS_SPINNING
.spin:
	pause
	cmp qword [r14 + DATA_FLAG], 0
	je .spin
	EXPECT rbx, 0x0123456789abcdef, 35
	movq rax, xmm0
	EXPECT rax, XMM_MAIN, 36
	EXPECT qword [fs:0], FS_VALUE, 37

	xor edi, edi
	SYS SYS_EXIT
fail:
	SYS SYS_EXIT
	ud2

; Runs while utest_main waits in SYS_SWITCH: clobbers what utest_main checks afterwards.
utest_clobber:
	mov r15, rdi
	mov r14, rsi
	mov rax, XMM_OTHER
	movq xmm0, rax
	test r15, r15
	jz .no_avx
	vxorps ymm2, ymm2, ymm2
.no_avx:
	mov rdi, ARCH_SET_FS
	lea rsi, [r14 + DATA_FS_OTHER]
	SYS SYS_ARCH_PRCTL
	mov rdi, ARCH_SET_GS
	lea rsi, [r14 + DATA_GS_OTHER]
	SYS SYS_ARCH_PRCTL
	SYS SYS_SWITCHED
	movq rax, xmm0
	EXPECT rax, XMM_OTHER, 40
	lea rax, [r14 + DATA_FS_OTHER]
	mov rdi, ARCH_GET_FS
	lea rsi, [r14 + DATA_GET + 16]
	SYS SYS_ARCH_PRCTL
	lea rax, [r14 + DATA_FS_OTHER]
	cmp [r14 + DATA_GET + 16], rax
	CHECK 41
	xor edi, edi
	SYS SYS_EXIT

; Each of these must end in do_user_trap (exit code 99: it came back instead).
utest_ud:
	ud2
	jmp trap_returned
utest_gp:
	hlt                             ; privileged: #GP(0) in ring 3
	jmp trap_returned
utest_bp:
	int3
	jmp trap_returned
utest_pf:
	mov rax, [rsi - 0x1000]         ; the page below the data page is not mapped
	jmp trap_returned
utest_de:
	xor ecx, ecx
	xor edx, edx
	mov eax, 1
	div rcx
	jmp trap_returned
utest_bad_rip:
	SYS SYS_BAD_RIP
trap_returned:
	mov edi, 99
	SYS SYS_EXIT
	ud2

align 8
pattern:
	dq 0x0706050403020100, 0x0f0e0d0c0b0a0908, 0x1716151413121110, 0x1f1e1d1c1b1a1918
hello:
	db "hello, kernel", 0
utest_blob_end:
