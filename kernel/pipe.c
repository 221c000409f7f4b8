/*
 * Pipes: a ring buffer of PIPE_SIZE bytes with free-running head (writes) and tail (reads)
 * counters, and the sleeping that makes readers wait for data and writers for room. The
 * pipe's mutex guards the buffer, the counters and the reader/writer counts, and is held
 * across copies to and from user memory. Sleepers wait on rd_wait/wr_wait without the mutex;
 * their conditions read the counters with READ_ONCE and are re-checked under the mutex.
 */
#include "kernel/pipe.h"
#include "kernel/ramfs.h"
#include "kernel/process.h"
#include "kernel/signal.h"
#include "kernel/wait.h"
#include "kernel/string.h"
#include "kernel/ktest.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"

struct pipe {
	struct mutex lock;    /* guards everything below except the wait queues */
	char *buf;	      /* PIPE_SIZE bytes; fixed */
	uint32_t head, tail;  /* bytes written / read so far (mod 2^32); lock, READ_ONCE outside */
	int readers, writers; /* open files on each end; lock, READ_ONCE outside */
	struct wait_queue_head rd_wait; /* readers waiting for data or the last writer to go */
	struct wait_queue_head wr_wait; /* writers waiting for room or the last reader to go */
};

static const struct file_operations pipe_read_ops, pipe_write_ops;

size_t pipe_count(struct pipe *p)
{
	return READ_ONCE(p->head) - READ_ONCE(p->tail);
}

struct pipe *file_pipe(struct file *f)
{
	if (f->ops == &pipe_read_ops || f->ops == &pipe_write_ops)
		return f->private_data;
	return NULL;
}

static bool pipe_readable(struct pipe *p)
{
	return pipe_count(p) > 0 || READ_ONCE(p->writers) == 0;
}

/* Room for need bytes, or nobody left to read them. */
static bool pipe_writable(struct pipe *p, size_t need)
{
	return PIPE_SIZE - pipe_count(p) >= need || READ_ONCE(p->readers) == 0;
}

long pipe_read(struct pipe *p, struct iobuf buf, size_t len, bool nonblock)
{
	size_t n, at, first;
	int err;

	if (len == 0)
		return 0;
	mutex_lock(&p->lock);
	while (p->head == p->tail) {
		if (p->writers == 0) {
			mutex_unlock(&p->lock);
			return 0;
		}
		mutex_unlock(&p->lock);
		if (nonblock)
			return -EAGAIN;
		err = wait_event_interruptible(p->rd_wait, pipe_readable(p));
		if (err)
			return err;
		mutex_lock(&p->lock);
	}
	n = MIN(len, (size_t)(p->head - p->tail));
	at = p->tail % PIPE_SIZE;
	first = MIN(n, PIPE_SIZE - at);
	err = iobuf_copy_to(buf, 0, p->buf + at, first);
	if (!err && n > first)
		err = iobuf_copy_to(buf, first, p->buf, n - first);
	if (err) {
		/* The bytes stay in the pipe for a reader with a valid buffer. */
		mutex_unlock(&p->lock);
		return err;
	}
	WRITE_ONCE(p->tail, p->tail + (uint32_t)n);
	mutex_unlock(&p->lock);
	wake_up(&p->wr_wait);
	return (long)n;
}

static void send_sigpipe(void)
{
	struct uthread *ut = current_uthread();

	if (ut)
		send_signal_thread(ut, SIGPIPE, SI_KERNEL, 0);
}

long pipe_write(struct pipe *p, struct iobuf buf, size_t len, bool nonblock)
{
	size_t done = 0;
	long err = 0;
	bool atomic = len <= PIPE_BUF;

	if (len == 0)
		return 0;
	mutex_lock(&p->lock);
	while (done < len) {
		size_t room = PIPE_SIZE - (p->head - p->tail);
		size_t left = len - done;

		if (p->readers == 0) {
			send_sigpipe();
			err = -EPIPE;
			break;
		}
		if (room > 0 && (!atomic || room >= left)) {
			size_t n = MIN(room, left);
			size_t at = p->head % PIPE_SIZE;
			size_t first = MIN(n, PIPE_SIZE - at);

			err = iobuf_copy_from(p->buf + at, buf, done, first);
			if (!err && n > first)
				err = iobuf_copy_from(p->buf, buf, done + first, n - first);
			if (err)
				break;
			WRITE_ONCE(p->head, p->head + (uint32_t)n);
			done += n;
			wake_up(&p->rd_wait);
			continue;
		}
		if (nonblock) {
			err = -EAGAIN;
			break;
		}
		mutex_unlock(&p->lock);
		err = wait_event_interruptible(p->wr_wait, pipe_writable(p, atomic ? left : 1));
		mutex_lock(&p->lock);
		if (err)
			break;
	}
	mutex_unlock(&p->lock);
	return done ? (long)done : err;
}

static long pipe_read_iob(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	return pipe_read(f->private_data, buf, len, READ_ONCE(f->flags) & O_NONBLOCK);
}

static long pipe_write_iob(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	return pipe_write(f->private_data, buf, len, READ_ONCE(f->flags) & O_NONBLOCK);
}

static long pipe_bad_iob(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	return -EBADF;
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->private_data;
	bool reader = f->ops == &pipe_read_ops;

	mutex_lock(&p->lock);
	if (reader)
		p->readers--;
	else
		p->writers--;
	mutex_unlock(&p->lock);
	/* The other side may sleep for something that can no longer happen. */
	wake_up_all(reader ? &p->wr_wait : &p->rd_wait);
}

static const struct file_operations pipe_read_ops = {
	.read = generic_read_user,
	.write = generic_write_user,
	.read_iob = pipe_read_iob,
	.write_iob = pipe_bad_iob,
	.release = pipe_release,
};

static const struct file_operations pipe_write_ops = {
	.read = generic_read_user,
	.write = generic_write_user,
	.read_iob = pipe_bad_iob,
	.write_iob = pipe_write_iob,
	.release = pipe_release,
};

void pipe_free(struct pipe *p)
{
	free_page_addr(p->buf);
	kfree(p);
}

int pipe_create(struct file **rd, struct file **wr, unsigned int flags)
{
	struct inode *inode;
	struct pipe *p;
	unsigned int nb = flags & O_NONBLOCK;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->buf = get_free_page(GFP_KERNEL);
	inode = inode_alloc(S_IFIFO | 0600, PIPEFS_DEV);
	if (!p->buf || !inode) {
		if (p->buf)
			free_page_addr(p->buf);
		kfree(p);
		iput(inode);
		return -ENOMEM;
	}
	mutex_init(&p->lock);
	init_waitqueue_head(&p->rd_wait);
	init_waitqueue_head(&p->wr_wait);
	p->readers = p->writers = 1;
	inode->pipe = p; /* freed with the inode, after both files are gone */
	*rd = file_alloc(inode, &pipe_read_ops, O_RDONLY | nb);
	if (*rd)
		(*rd)->private_data = p;
	*wr = file_alloc(inode, &pipe_write_ops, O_WRONLY | nb);
	if (*wr)
		(*wr)->private_data = p;
	iput(inode); /* the files hold it now */
	if (!*rd || !*wr) {
		/* release() of the end that exists only decrements its count. */
		if (*rd)
			fput(*rd);
		if (*wr)
			fput(*wr);
		return -ENOMEM;
	}
	return 0;
}
