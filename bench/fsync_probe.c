/* fsync_probe: how long fdatasync takes after a write, by how the file grows.
 *   cc -O2 -o /tmp/fsync-probe bench/fsync_probe.c && /tmp/fsync-probe DIR [BYTES]
 * For each mode: 2,000 writes of BYTES (default 3000) to a fresh file in DIR,
 * each followed by fdatasync (or an O_DSYNC write); prints median/p90/p99 us.
 * Used for docs/PERFORMANCE.md ("Durable writes over a zero-filled WAL"). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static const char* names[] = {"", "append", "append after fallocate(KEEP_SIZE)",
                              "inside fallocate'd size (unwritten extents)",
                              "overwrite of zeros written and synced before", "O_DSYNC append"};

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR [BYTES]\n", argv[0]);
    return 2;
  }
  size_t sz = argc > 2 ? (size_t)atol(argv[2]) : 3000;
  enum { n = 2000 };
  char path[4096];
  snprintf(path, sizeof path, "%s/fsync-probe.%d", argv[1], (int)getpid());
  char* buf = malloc(sz);
  memset(buf, 'x', sz);
  static double lat[n];
  for (int mode = 1; mode <= 5; ++mode) {
    unlink(path);
    int fd = open(path, O_CREAT | O_RDWR | (mode == 5 ? O_DSYNC : 0), 0644);
    if (fd < 0) {
      perror(path);
      return 1;
    }
    size_t total = (size_t)n * sz + (1 << 20);
    if (mode == 2 && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)total) != 0)
      perror("fallocate");
    if (mode == 3 && fallocate(fd, 0, 0, (off_t)total) != 0)
      perror("fallocate");
    if (mode == 4) {
      char* z = calloc(1, 1 << 20);
      for (size_t o = 0; o < total; o += 1 << 20)
        if (write(fd, z, 1 << 20) < 0)
          perror("write");
      fsync(fd);
      lseek(fd, 0, SEEK_SET);
      free(z);
    }
    for (int i = 0; i < n; ++i) {
      double a = now_us();
      if (write(fd, buf, sz) != (ssize_t)sz)
        perror("write");
      if (mode != 5)
        fdatasync(fd);
      lat[i] = now_us() - a;
    }
    qsort(lat, n, sizeof lat[0], cmp);
    printf("%-46s median %4.0f  p90 %4.0f  p99 %4.0f us\n", names[mode], lat[n / 2],
           lat[n * 9 / 10], lat[n * 99 / 100]);
    close(fd);
  }
  unlink(path);
  return 0;
}
