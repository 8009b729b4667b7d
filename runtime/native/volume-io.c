/*
 * e2b-volume-io: one file operation of the volume content API, done inside the volume only.
 *
 *   e2b-volume-io <volume-root> <owner-uid> <default-uid> <default-gid> <op> [args...]
 *
 *   stat   <path>
 *   list   <path> <depth>
 *   mkdir  <path> <uid> <gid> <mode> <parents 0|1>
 *   write  <path> <uid> <gid> <mode> <force 0|1>      (file content on stdin)
 *   read   <path>                                      (file content after the status line)
 *   update <path> <uid> <gid> <mode>
 *   remove <path>
 *
 * uid, gid and mode are -1 when not given (host ids: the runtime adds the sandbox id offset).
 *
 * Why it exists: the runtime runs as host root, and a volume is a directory that hostile sandbox
 * root writes into: it can plant symlinks to host paths or swap a directory for a link between a
 * check and a use. Node has no openat2/chroot. So every operation runs in this short-lived
 * process that first chroots into the volume (whose root is its own file system's root: checked),
 * then becomes the sandbox's root uid with only the capabilities an owner of the volume needs
 * (CHOWN, DAC_OVERRIDE, FOWNER, FSETID; no SYS_CHROOT, so the chroot cannot be left). Every path,
 * link and `..` then resolves inside the volume, whatever the sandbox planted.
 *
 * Output (stdout): a status line "ok" or "err <ERRNO-NAME>", then for stat/list/mkdir/write/update
 * one line per entry:
 *   <type f|d|u> <size> <mode> <uid> <gid> <atime> <mtime> <ctime> <hex path> <hex link target|->
 * (times as seconds.nanoseconds; path and target hex-encoded: names may hold any byte). For read,
 * "ok <size>" and then the file's bytes.
 *
 * Build: gcc -O2 -static -o e2b-volume-io volume-io.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_DEPTH 10

static unsigned default_uid, default_gid;

static void fail_errno(int err) {
    const char *name = strerrorname_np(err);
    printf("err %s\n", name ? name : "EIO");
    fflush(stdout);
    _exit(1);
}

static void usage(void) {
    fprintf(stderr, "usage: e2b-volume-io <volume-root> <owner-uid> <default-uid> <default-gid> <op> [args...]\n");
    _exit(2);
}

static long parse_long(const char *s, long min, long max) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) usage();
    return v;
}

/* chroot into the volume, then drop to its owner with only the capabilities an owner needs. */
static void enter_volume(const char *root, uid_t owner) {
    struct stat self, parent;
    char up[PATH_MAX];
    if (snprintf(up, sizeof up, "%s/..", root) >= (int)sizeof up) usage();
    /* The volume's own file system must be mounted there: never work on the host's disk instead. */
    if (stat(root, &self) != 0 || stat(up, &parent) != 0 || self.st_dev == parent.st_dev) {
        fprintf(stderr, "e2b-volume-io: %s is not a mounted volume\n", root);
        printf("err ENODEV\n");
        fflush(stdout);
        _exit(1);
    }
    if (chroot(root) != 0 || chdir("/") != 0) { perror("chroot"); _exit(3); }
    if (prctl(PR_SET_KEEPCAPS, 1) != 0 || setgroups(0, NULL) != 0 || setresgid(owner, owner, owner) != 0 ||
        setresuid(owner, owner, owner) != 0) { perror("drop privileges"); _exit(3); }
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    unsigned keep = (1u << CAP_CHOWN) | (1u << CAP_DAC_OVERRIDE) | (1u << CAP_FOWNER) | (1u << CAP_FSETID);
    data[0].effective = data[0].permitted = keep;
    if (syscall(SYS_capset, &header, data) != 0) { perror("capset"); _exit(3); }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("no_new_privs"); _exit(3); }
    /* chroot needs CAP_SYS_CHROOT, which is gone: check it, the chroot's safety rests on it. */
    if (chroot("/") == 0) { fprintf(stderr, "e2b-volume-io: still able to chroot\n"); _exit(3); }
    umask(0);
}

static void put_hex(const char *s) {
    if (!*s) { fputc('-', stdout); return; }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) printf("%02x", *p);
}

static char type_of(mode_t mode) {
    return S_ISREG(mode) ? 'f' : S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : 'u';
}

/*
 * As E2B reports entries: a link has the type and mode of what it resolves to (inside the volume:
 * we are chrooted) and that resolved path as its target; a dangling one is "unknown", its target
 * its own path. Size, owner and times are the entry's own. Mode is the permission bits.
 */
static void print_entry(const char *path, const struct stat *st) {
    char type = type_of(st->st_mode);
    mode_t mode = st->st_mode & 0777;
    char target[PATH_MAX] = "";
    if (type == 'l') {
        struct stat resolved;
        if (!realpath(path, target)) snprintf(target, sizeof target, "%s", path);
        if (stat(path, &resolved) == 0) {
            type = type_of(resolved.st_mode);
            mode = resolved.st_mode & 0777;
        } else {
            type = 'u';
            mode = 0;
        }
    }
    printf("%c %lld %o %u %u %lld.%09ld %lld.%09ld %lld.%09ld ", type, (long long)st->st_size, mode,
           st->st_uid, st->st_gid, (long long)st->st_atim.tv_sec, st->st_atim.tv_nsec, (long long)st->st_mtim.tv_sec,
           st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
    put_hex(path);
    fputc(' ', stdout);
    put_hex(target);
    fputc('\n', stdout);
}

static void print_path(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) fail_errno(errno);
    printf("ok\n");
    print_entry(path, &st);
}

static void join(char *out, size_t size, const char *dir, const char *name) {
    if (snprintf(out, size, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name) >= (int)size) fail_errno(ENAMETOOLONG);
}

/* Entries below `dir`, depth levels deep; subdirectories are entered without following links. */
static void list_dir(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) {
        if (depth == -1) return;
        fail_errno(errno);
    }
    struct dirent *e;
    char child[PATH_MAX];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        join(child, sizeof child, dir, e->d_name);
        struct stat st;
        if (lstat(child, &st) != 0) continue; /* removed meanwhile */
        print_entry(child, &st);
        if (S_ISDIR(st.st_mode) && depth > 1) {
            DIR *probe = opendir(child);
            if (probe) { closedir(probe); list_dir(child, depth - 1); }
        }
    }
    closedir(d);
}

static void owner_and_mode(const char *path, long uid, long gid, long mode) {
    if ((uid >= 0 || gid >= 0) && lchown(path, uid >= 0 ? (uid_t)uid : (uid_t)-1, gid >= 0 ? (gid_t)gid : (gid_t)-1) != 0) fail_errno(errno);
    if (mode >= 0 && chmod(path, (mode_t)mode) != 0) fail_errno(errno);
}

/* Creates the missing directories above `path` (mode 0777, the given owner), like mkdir -p. */
static void make_parents(const char *path, long uid, long gid) {
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) fail_errno(ENAMETOOLONG);
    strcpy(buf, path);
    for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        if (mkdir(buf, 0777) == 0) {
            owner_and_mode(buf, uid >= 0 ? uid : default_uid, gid >= 0 ? gid : default_gid, 0777);
        } else {
            struct stat st;
            if (errno != EEXIST) fail_errno(errno);
            if (stat(buf, &st) != 0) fail_errno(errno);
            if (!S_ISDIR(st.st_mode)) fail_errno(ENOTDIR);
        }
        *p = '/';
    }
}

static void op_mkdir(const char *path, long uid, long gid, long mode, int parents) {
    if (parents) make_parents(path, uid, gid);
    if (mkdir(path, 0777) != 0) {
        struct stat st;
        if (errno == EEXIST && parents && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) { print_path(path); return; }
        fail_errno(errno);
    }
    owner_and_mode(path, uid >= 0 ? uid : default_uid, gid >= 0 ? gid : default_gid, mode >= 0 ? mode : 0777);
    print_path(path);
}

static void write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno);
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void op_write(const char *path, long uid, long gid, long mode, int force) {
    if (force) make_parents(path, uid, gid);
    int created = 1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST && force) {
        created = 0;
        /* An existing entry must be a plain file: never write into a FIFO or through a device. */
        fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) fail_errno(EINVAL);
        if (fd >= 0 && ftruncate(fd, 0) != 0) fail_errno(errno);
    }
    if (fd < 0) fail_errno(errno);
    static char buf[BUF_SIZE];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(errno);
        }
        if (n == 0) break;
        write_all(fd, buf, (size_t)n);
    }
    if (fsync(fd) != 0) fail_errno(errno);
    close(fd);
    /* A new file gets the defaults; an overwritten one keeps its owner and mode unless told. */
    if (created) owner_and_mode(path, uid >= 0 ? uid : default_uid, gid >= 0 ? gid : default_gid, mode >= 0 ? mode : 0666);
    else owner_and_mode(path, uid, gid, mode);
    print_path(path);
}

static void op_read(const char *path) {
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) fail_errno(errno);
    struct stat st;
    if (fstat(fd, &st) != 0) fail_errno(errno);
    if (S_ISDIR(st.st_mode)) fail_errno(EISDIR);
    if (!S_ISREG(st.st_mode)) fail_errno(EINVAL);
    printf("ok %lld\n", (long long)st.st_size);
    fflush(stdout);
    static char buf[BUF_SIZE];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        if (n == 0) break;
        const char *p = buf;
        size_t left = (size_t)n;
        while (left > 0) {
            ssize_t w = write(1, p, left);
            if (w < 0) {
                if (errno == EINTR) continue;
                _exit(1);
            }
            p += w;
            left -= (size_t)w;
        }
    }
    _exit(0);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)ftw;
    if (remove(path) != 0 && errno != ENOENT) {
        (void)flag;
        return errno;
    }
    return 0;
}

static void op_remove(const char *path) {
    struct stat st;
    if (!strcmp(path, "/")) fail_errno(EBUSY);
    if (lstat(path, &st) != 0) fail_errno(errno);
    /* Depth first, links removed themselves (FTW_PHYS), never left for another file system. */
    int err = nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (err != 0) fail_errno(err > 0 ? err : errno);
    printf("ok\n");
}

int main(int argc, char **argv) {
    if (argc < 7) usage();
    long owner = parse_long(argv[2], 1, 0x7fffffff);
    default_uid = (unsigned)parse_long(argv[3], 0, 0x7fffffff);
    default_gid = (unsigned)parse_long(argv[4], 0, 0x7fffffff);
    const char *op = argv[5];
    const char *path = argv[6];
    if (path[0] != '/') usage();
    enter_volume(argv[1], (uid_t)owner);

    if (!strcmp(op, "stat") && argc == 7) {
        print_path(path);
    } else if (!strcmp(op, "list") && argc == 8) {
        int depth = (int)parse_long(argv[7], 1, MAX_DEPTH);
        struct stat st;
        if (stat(path, &st) != 0) fail_errno(errno);
        if (!S_ISDIR(st.st_mode)) fail_errno(ENOTDIR);
        DIR *d = opendir(path);
        if (!d) fail_errno(errno);
        closedir(d);
        printf("ok\n");
        list_dir(path, depth);
    } else if (!strcmp(op, "mkdir") && argc == 11) {
        op_mkdir(path, parse_long(argv[7], -1, 0x7fffffff), parse_long(argv[8], -1, 0x7fffffff), parse_long(argv[9], -1, 07777),
                 (int)parse_long(argv[10], 0, 1));
    } else if (!strcmp(op, "write") && argc == 11) {
        op_write(path, parse_long(argv[7], -1, 0x7fffffff), parse_long(argv[8], -1, 0x7fffffff), parse_long(argv[9], -1, 07777),
                 (int)parse_long(argv[10], 0, 1));
    } else if (!strcmp(op, "read") && argc == 7) {
        op_read(path);
    } else if (!strcmp(op, "update") && argc == 10) {
        if (lstat(path, &(struct stat){0}) != 0) fail_errno(errno);
        owner_and_mode(path, parse_long(argv[7], -1, 0x7fffffff), parse_long(argv[8], -1, 0x7fffffff), parse_long(argv[9], -1, 07777));
        print_path(path);
    } else if (!strcmp(op, "remove") && argc == 7) {
        op_remove(path);
    } else {
        usage();
    }
    fflush(stdout);
    return 0;
}
