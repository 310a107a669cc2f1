// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pgwork: small static workload for the sample crash dumps of drgn-pageowner.
 * Runs in the QEMU guest (see vmcores/guest/workload.sh); compiled on the host with
 * `gcc -static -O2`.
 *
 *   pgwork [-n COMM] [-d] STEP...
 *
 *   -n COMM  set the task's comm (prctl PR_SET_NAME) before doing anything
 *   -d       hold: run the steps in a child, which then sleeps forever keeping
 *            everything it allocated; the parent exits once the child is done
 *
 * Steps (sizes in KiB unless noted):
 *   anon:KB             mmap anonymous memory and touch every page
 *   thp:N               N 2 MiB-aligned MADV_HUGEPAGE regions (order-9 THP where enabled)
 *   mthp:KB:N           N KB-sized, KB-aligned MADV_HUGEPAGE regions (mTHP on 6.8+)
 *   pipe:BYTES:FILL     a pipe resized with F_SETPIPE_SZ to BYTES (its pipe_buffer
 *                       array is one kmalloc of BYTES/4096*40 bytes), FILL bytes written
 *   unix:stream|dgram:N:BYTES  a socketpair with N queued messages of BYTES bytes
 *   file:PATH:KB        write a file
 *   xattr:PATH:BYTES:N  set N trusted.* xattrs of BYTES bytes on PATH (creates PATH)
 *   files:DIR:N         create N small files in DIR (dentries, inodes)
 *   kids:N:PREFIX:DIR   fork N children named PREFIX-NN; each writes DIR/PREFIX-NN
 *                       (1..7 pages), maps and touches some anonymous memory, exits
 *   frag:DIR:KB         write DIR/keep and DIR/drop page by page interleaved, then
 *                       unlink DIR/drop (leaves holes for compaction)
 *   read:PATH:KB        read PATH (buffered)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14
#endif
#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#endif

#define PG 4096UL

static const char *me = "pgwork";

static void warnx_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", me);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static unsigned long num(const char *s)
{
	return strtoul(s, NULL, 0);
}

/* split "a:b:c" in place */
static int split(char *s, char **f, int max)
{
	int n = 0;
	f[n++] = s;
	while (n < max && (s = strchr(s, ':'))) {
		*s++ = 0;
		f[n++] = s;
	}
	return n;
}

/* fill with a compressible, page-dependent pattern */
static void touch(char *p, size_t len, unsigned seed)
{
	for (size_t off = 0; off < len; off += PG)
		memset(p + off, (int)((seed + off / PG) % 200 + 1), PG);
}

static char *aligned_map(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	uintptr_t end = (uintptr_t)p + len + align;
	if (end > a + len)
		munmap((void *)(a + len), end - (a + len));
	return (char *)a;
}

static int write_file(const char *path, size_t kb, unsigned seed)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		warnx_("open %s: %s", path, strerror(errno));
		return -1;
	}
	char buf[PG];
	for (size_t i = 0; i < kb * 1024 / PG; i++) {
		memset(buf, (int)((seed + i) % 200 + 1), sizeof(buf));
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
			warnx_("write %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static int step(char *arg)
{
	char *f[6];
	int n = split(arg, f, 6);

	if (!strcmp(f[0], "anon") && n == 2) {
		size_t len = num(f[1]) * 1024;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return warnx_("anon mmap: %s", strerror(errno)), -1;
		madvise(p, len, MADV_NOHUGEPAGE);
		touch(p, len, 7);
	} else if (!strcmp(f[0], "thp") && n == 2) {
		for (unsigned long i = 0; i < num(f[1]); i++) {
			size_t len = 2UL << 20;
			char *p = aligned_map(len, len);
			if (!p)
				return warnx_("thp mmap: %s", strerror(errno)), -1;
			if (madvise(p, len, MADV_HUGEPAGE))
				warnx_("madvise(MADV_HUGEPAGE): %s", strerror(errno));
			touch(p, len, 11 + i);
		}
	} else if (!strcmp(f[0], "mthp") && n == 3) {
		size_t len = num(f[1]) * 1024;
		for (unsigned long i = 0; i < num(f[2]); i++) {
			char *p = aligned_map(len, len);
			if (!p)
				return warnx_("mthp mmap: %s", strerror(errno)), -1;
			madvise(p, len, MADV_HUGEPAGE);
			touch(p, len, 23 + i);
		}
	} else if (!strcmp(f[0], "pipe") && n == 3) {
		int fds[2];
		if (pipe(fds))
			return warnx_("pipe: %s", strerror(errno)), -1;
		if (fcntl(fds[1], F_SETPIPE_SZ, (int)num(f[1])) < 0)
			warnx_("F_SETPIPE_SZ %s: %s", f[1], strerror(errno));
		fcntl(fds[1], F_SETFL, O_NONBLOCK);
		size_t left = num(f[2]);
		char buf[PG];
		memset(buf, 'p', sizeof(buf));
		while (left) {
			size_t c = left < sizeof(buf) ? left : sizeof(buf);
			ssize_t w = write(fds[1], buf, c);
			if (w <= 0)
				break;
			left -= (size_t)w;
		}
		/* keep both ends open */
	} else if (!strcmp(f[0], "unix") && n == 4) {
		int dgram = !strcmp(f[1], "dgram");
		int sv[2];
		if (socketpair(AF_UNIX, dgram ? SOCK_DGRAM : SOCK_STREAM, 0, sv))
			return warnx_("socketpair: %s", strerror(errno)), -1;
		int sz = 16 << 20;
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
		size_t len = num(f[3]);
		char *buf = malloc(len);
		memset(buf, 'u', len);
		for (unsigned long i = 0; i < num(f[2]); i++)
			if (send(sv[0], buf, len, 0) < 0) {
				warnx_("unix send %lu: %s", i, strerror(errno));
				break;
			}
		free(buf);
	} else if (!strcmp(f[0], "file") && n == 3) {
		return write_file(f[1], num(f[2]), 31);
	} else if (!strcmp(f[0], "xattr") && n == 4) {
		int fd = open(f[1], O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
		size_t len = num(f[2]);
		char *buf = malloc(len);
		memset(buf, 'x', len);
		for (unsigned long i = 0; i < num(f[3]); i++) {
			char name[48];
			snprintf(name, sizeof(name), "trusted.pgwork%lu", i);
			if (setxattr(f[1], name, buf, len, 0))
				warnx_("setxattr %s %zu: %s", f[1], len, strerror(errno));
		}
		free(buf);
	} else if (!strcmp(f[0], "files") && n == 3) {
		mkdir(f[1], 0755);
		for (unsigned long i = 0; i < num(f[2]); i++) {
			char path[320];
			snprintf(path, sizeof(path), "%s/f%04lu", f[1], i);
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0)
				return warnx_("open %s: %s", path, strerror(errno)), -1;
			if (i % 4 == 0 && write(fd, path, strlen(path)) < 0)
				warnx_("write %s", path);
			close(fd);
		}
	} else if (!strcmp(f[0], "kids") && n == 4) {
		unsigned long nk = num(f[1]);
		for (unsigned long i = 0; i < nk; i++) {
			pid_t pid = fork();
			if (pid < 0)
				return warnx_("fork: %s", strerror(errno)), -1;
			if (pid == 0) {
				char name[64], path[320];
				snprintf(name, sizeof(name), "%.8s-%02u", f[2], (unsigned)(i % 100));
				prctl(PR_SET_NAME, name);
				snprintf(path, sizeof(path), "%s/%s", f[3], name);
				size_t len = (i % 5 + 1) * 16 * PG;
				char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				if (p != MAP_FAILED)
					touch(p, len, (unsigned)i);
				_exit(write_file(path, (i % 7 + 1) * 4, (unsigned)i) ? 1 : 0);
			}
			waitpid(pid, NULL, 0);
		}
	} else if (!strcmp(f[0], "frag") && n == 3) {
		char keep[256], drop[256];
		snprintf(keep, sizeof(keep), "%s/keep", f[1]);
		snprintf(drop, sizeof(drop), "%s/drop", f[1]);
		int a = open(keep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int b = open(drop, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (a < 0 || b < 0)
			return warnx_("frag open: %s", strerror(errno)), -1;
		char buf[PG];
		for (size_t i = 0; i < num(f[2]) * 1024 / PG; i++) {
			memset(buf, (int)(i % 200 + 1), sizeof(buf));
			if (write(a, buf, PG) != PG || write(b, buf, PG) != PG)
				return warnx_("frag write: %s", strerror(errno)), -1;
		}
		close(a);
		close(b);
		unlink(drop);
	} else if (!strcmp(f[0], "read") && n == 3) {
		int fd = open(f[1], O_RDONLY);
		if (fd < 0)
			return warnx_("open %s: %s", f[1], strerror(errno)), -1;
		char buf[16 * PG];
		size_t left = num(f[2]) * 1024;
		while (left) {
			ssize_t r = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
			if (r <= 0)
				break;
			left -= (size_t)r;
		}
		close(fd);
	} else {
		warnx_("bad step '%s'", f[0]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int hold = 0, i = 1, rc = 0;
	const char *comm = NULL;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-d"))
			hold = 1;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			comm = argv[++i];
		else
			return fprintf(stderr, "usage: pgwork [-n COMM] [-d] STEP...\n"), 2;
	}
	if (comm) {
		prctl(PR_SET_NAME, comm);
		me = comm;
	}
	if (hold) {
		int p[2];
		if (pipe(p))
			return 1;
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0) {
			char c = 1;
			close(p[1]);
			if (read(p[0], &c, 1) != 1)
				c = 1;
			return c;
		}
		close(p[0]);
		setsid();
		for (; i < argc; i++)
			if (step(argv[i]))
				rc = 1;
		char c = (char)rc;
		if (write(p[1], &c, 1) != 1)
			return 1;
		close(p[1]);
		for (;;)
			pause();
	}
	for (; i < argc; i++)
		if (step(argv[i]))
			rc = 1;
	return rc;
}
