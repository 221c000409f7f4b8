/*
 * Pipes (kernel/pipe.c): a one-page ring buffer between a read end and a write end, each a
 * struct file on one anonymous FIFO inode. The internal calls take a struct iobuf so kernel
 * threads (the in-kernel tests) can use a pipe exactly as system calls do.
 */
#ifndef KERNEL_PIPE_H
#define KERNEL_PIPE_H

#include "kernel/vfs.h"

struct pipe;

#define PIPE_SIZE 4096 /* ring capacity: one page (= PIPE_BUF) */

/* A new pipe: *rd and *wr hold one reference each. flags: O_NONBLOCK, O_CLOEXEC ignored. */
int pipe_create(struct file **rd, struct file **wr, unsigned int flags);
/*
 * Reads up to len bytes: returns as soon as any are there; 0 once every writer is gone and
 * the buffer is empty; -EAGAIN (nonblock) or -ERESTARTSYS (a signal) when empty.
 */
long pipe_read(struct pipe *p, struct iobuf buf, size_t len, bool nonblock);
/*
 * Writes len bytes, sleeping for room; a write of at most PIPE_BUF bytes is never
 * interleaved with others. No readers: SIGPIPE to the calling user thread and -EPIPE (or the
 * bytes already written). A signal or O_NONBLOCK ends it early with the count so far.
 */
long pipe_write(struct pipe *p, struct iobuf buf, size_t len, bool nonblock);
/* The pipe of a pipe end, or NULL if f is not one. */
struct pipe *file_pipe(struct file *f);
/* Bytes in the buffer (a snapshot, for tests and FIONREAD). */
size_t pipe_count(struct pipe *p);
/* The inode is being freed: both ends are closed. */
void pipe_free(struct pipe *p);

#endif
