/*
 * e2b-sandbox-disk: makes a sandbox's disk and root in one exec, the steps in the order given.
 *
 *   e2b-sandbox-disk [copy BLANK IMAGE] [loop IMAGE MOUNTPOINT] [dir PATH UID MODE]...
 *                    [overlay LOWERDIR UPPER WORK TARGET]
 *
 *   copy     a sparse copy of BLANK at IMAGE (a new file): only its non-zero blocks are written,
 *            as `cp --sparse=always` does
 *   loop     attaches IMAGE to a free loop device (auto-cleared: it detaches once unmounted) and
 *            mounts its ext4 at MOUNTPOINT with nosuid,nodev,discard, as `mount -o loop` does
 *   dir      mkdir -p PATH, then chown it to UID:UID and chmod it to MODE (octal); UID and MODE
 *            "-" leave a new directory root's, 0755 (and an existing one as it is)
 *   overlay  mounts the overlay of LOWERDIR (colon-separated) and UPPER at TARGET
 *
 * Why it exists: a cold create did each of these as its own exec from the runtime (cp, mount,
 * mount), and every exec forks the runtime's large Node process; mount(8) also walks every loop
 * device on the host (hundreds) to see whether the image is attached already. This does it all
 * with the syscalls themselves. Every path it is given is the runtime's own (the bundle
 * directory, the image cache): none is one a sandbox can write, and a fresh disk holds nothing of
 * any sandbox yet.
 *
 * Exit status 0 when every step worked; otherwise 1, with the failed step and why on stderr.
 *
 * Build: gcc -O2 -static -o e2b-sandbox-disk sandbox-disk.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 4096
#define CHUNK (64 * BLOCK)
/* Every attach that starts at the same moment is handed the same free device and only one wins
 * it: with N creates at once the last one loses up to N-1 times (util-linux retries without end).
 * After the first rounds each retry waits a millisecond, so a burst spreads out; ~2 s at most. */
#define LOOP_ATTACH_TRIES 2048
#define LOOP_QUICK_TRIES 64

static void die(const char *step, const char *what) {
    fprintf(stderr, "e2b-sandbox-disk %s: %s: %s\n", step, what, strerror(errno));
    exit(1);
}

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static void write_at(int fd, const char *path, const unsigned char *p, size_t n, off_t at) {
    if (pwrite(fd, p, n, at) != (ssize_t)n) die("copy", path);
}

/* Writes the non-zero blocks of src's data extents into a new file of the same size. */
static void copy_sparse(const char *src, const char *dst) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) die("copy", src);
    struct stat st;
    if (fstat(in, &st) < 0) die("copy", src);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) die("copy", dst);
    if (ftruncate(out, st.st_size) < 0) die("copy", dst);
    static unsigned char buf[CHUNK];
    off_t pos = 0;
    for (;;) {
        off_t data = lseek(in, pos, SEEK_DATA);
        if (data < 0) {
            if (errno == ENXIO) break; /* no data after pos */
            die("copy", src);
        }
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0) die("copy", src);
        for (off_t at = data; at < hole;) {
            size_t want = hole - at < CHUNK ? (size_t)(hole - at) : CHUNK;
            ssize_t got = pread(in, buf, want, at);
            if (got < 0) die("copy", src);
            if (got == 0) break;
            /* Each run of non-zero blocks in one write. */
            ssize_t run_start = -1;
            for (ssize_t block = 0; block < got; block += BLOCK) {
                size_t n = got - block < BLOCK ? (size_t)(got - block) : BLOCK;
                int data_block = !all_zero(buf + block, n);
                if (data_block && run_start < 0) run_start = block;
                if (!data_block && run_start >= 0) {
                    write_at(out, dst, buf + run_start, block - run_start, at + run_start);
                    run_start = -1;
                }
            }
            if (run_start >= 0) write_at(out, dst, buf + run_start, got - run_start, at + run_start);
            at += got;
        }
        pos = hole;
    }
    if (close(out) < 0) die("copy", dst);
    close(in);
}

/* A free loop device with `image` attached, auto-cleared; its number. */
static int attach_loop(const char *image, int image_fd) {
    int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (control < 0) die("loop", "/dev/loop-control");
    for (int attempt = 0; attempt < LOOP_ATTACH_TRIES; attempt++) {
        int n = ioctl(control, LOOP_CTL_GET_FREE);
        if (n < 0) die("loop", "LOOP_CTL_GET_FREE");
        char device[32];
        snprintf(device, sizeof device, "/dev/loop%d", n);
        int loop = open(device, O_RDWR | O_CLOEXEC);
        if (loop < 0) {
            if (errno == ENOENT) continue; /* not yet made by devtmpfs: ask again */
            die("loop", device);
        }
        struct loop_config config;
        memset(&config, 0, sizeof config);
        config.fd = image_fd;
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
        strncpy((char *)config.info.lo_file_name, image, LO_NAME_SIZE - 1);
        if (ioctl(loop, LOOP_CONFIGURE, &config) == 0) {
            close(control);
            return loop;
        }
        /* Another process took this device between GET_FREE and CONFIGURE: take the next. */
        if (errno != EBUSY) die("loop", "LOOP_CONFIGURE");
        close(loop);
        if (attempt >= LOOP_QUICK_TRIES) usleep(1000);
    }
    errno = EBUSY;
    die("loop", "no free loop device");
    return -1;
}

static void mount_loop(const char *image, const char *target) {
    int image_fd = open(image, O_RDWR | O_CLOEXEC);
    if (image_fd < 0) die("loop", image);
    int loop = attach_loop(image, image_fd);
    close(image_fd);
    char device[32];
    struct loop_info64 info;
    if (ioctl(loop, LOOP_GET_STATUS64, &info) < 0) die("loop", "LOOP_GET_STATUS64");
    snprintf(device, sizeof device, "/dev/loop%u", info.lo_number);
    if (mount(device, target, "ext4", MS_NOSUID | MS_NODEV, "discard") < 0) die("loop", target);
    /* The mount holds the device now; closing the last handle of an unmounted one detaches it. */
    close(loop);
}

static void make_dir(const char *path, const char *uid_text, const char *mode_text) {
    char partial[4096];
    if (snprintf(partial, sizeof partial, "%s", path) >= (int)sizeof partial) {
        errno = ENAMETOOLONG;
        die("dir", path);
    }
    for (char *slash = partial + 1; *slash; slash++) {
        if (*slash != '/') continue;
        *slash = 0;
        if (mkdir(partial, 0755) < 0 && errno != EEXIST) die("dir", partial);
        *slash = '/';
    }
    if (mkdir(partial, 0755) < 0 && errno != EEXIST) die("dir", path);
    if (strcmp(uid_text, "-") == 0) return;
    uid_t uid = (uid_t)strtoul(uid_text, NULL, 10);
    if (chown(path, uid, uid) < 0) die("dir", path);
    if (chmod(path, (mode_t)strtoul(mode_text, NULL, 8)) < 0) die("dir", path);
}

static void mount_overlay(const char *lower, const char *upper, const char *work, const char *target) {
    size_t size = strlen(lower) + strlen(upper) + strlen(work) + 64;
    char *options = malloc(size);
    if (!options) die("overlay", "malloc");
    snprintf(options, size, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
    if (mount("overlay", target, "overlay", 0, options) < 0) die("overlay", target);
    free(options);
}

static void need(int argc, int at, int count, const char *step) {
    if (at + count >= argc) {
        fprintf(stderr, "e2b-sandbox-disk %s: needs %d arguments\n", step, count);
        exit(2);
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc;) {
        const char *step = argv[i];
        if (strcmp(step, "copy") == 0) {
            need(argc, i, 2, step);
            copy_sparse(argv[i + 1], argv[i + 2]);
            i += 3;
        } else if (strcmp(step, "loop") == 0) {
            need(argc, i, 2, step);
            mount_loop(argv[i + 1], argv[i + 2]);
            i += 3;
        } else if (strcmp(step, "dir") == 0) {
            need(argc, i, 3, step);
            make_dir(argv[i + 1], argv[i + 2], argv[i + 3]);
            i += 4;
        } else if (strcmp(step, "overlay") == 0) {
            need(argc, i, 4, step);
            mount_overlay(argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4]);
            i += 5;
        } else {
            fprintf(stderr, "e2b-sandbox-disk: unknown step %s\n", step);
            return 2;
        }
    }
    return 0;
}
