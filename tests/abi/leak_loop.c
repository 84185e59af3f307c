/* 200 brokers created, started, used and destroyed in a loop through the C ABI leave nothing
 * behind: the process's open file descriptors (/proc/self/fd) and threads (/proc/self/task)
 * are counted before and after and must be equal; resident memory may not grow by more than a
 * bound; built with -fsanitize=address, LeakSanitizer checks every allocation at exit. Prints
 * the cost of one broker's create + start + stop + destroy. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <dirent.h>
#include <minikafka/minikafka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                                                     \
  do {                                                                                                  \
    if (!(cond)) {                                                                                      \
      fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, __LINE__, #cond,            \
              minikafka_last_error());                                                                  \
      exit(1);                                                                                          \
    }                                                                                                   \
  } while (0)

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  if (d == NULL) return -1;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.') n++;
  }
  closedir(d);
  return n - (strcmp(dir, "/proc/self/fd") == 0 ? 1 : 0); /* the DIR's own fd */
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  if (f == NULL) return -1;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
  }
  fclose(f);
  return kib;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One broker's life: a topic, an admin route in-process and a Kafka connection accepted. */
static void one_broker(int with_work) {
  const char *opts[] = {"log-level", "warn", NULL};
  minikafka_broker *b = NULL;
  CHECK(minikafka_create(opts, &b) == MINIKAFKA_OK);
  CHECK(minikafka_start(b) == MINIKAFKA_OK);
  if (with_work) {
    CHECK(minikafka_topic_create(b, "t", 2, NULL) == MINIKAFKA_OK);
    char *body = NULL;
    CHECK(minikafka_admin_request(b, "GET", "/v1/cluster", NULL, NULL, &body) == MINIKAFKA_OK);
    minikafka_free(body);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)minikafka_port(b));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0);
    close(s);
  }
  minikafka_destroy(b);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 200;
  long rss_limit_kib = argc > 2 ? atol(argv[2]) : 16384;
  one_broker(1); /* warm-up: the process-wide logger and allocator pools */
  int fds0 = count_entries("/proc/self/fd"), threads0 = count_entries("/proc/self/task");
  long rss0 = rss_kib();

  double t0 = now_ms();
  for (int i = 0; i < rounds; i++) one_broker(1);
  double with_work_ms = (now_ms() - t0) / rounds;
  t0 = now_ms();
  for (int i = 0; i < rounds; i++) one_broker(0);
  double bare_ms = (now_ms() - t0) / rounds;

  int fds1 = count_entries("/proc/self/fd"), threads1 = count_entries("/proc/self/task");
  long rss1 = rss_kib();
  printf("%d brokers x2: fds %d -> %d, threads %d -> %d, RSS %ld -> %ld KiB (+%ld)\n", rounds, fds0, fds1, threads0,
         threads1, rss0, rss1, rss1 - rss0);
  printf("per broker: create+start+stop+destroy %.3f ms; with a topic, an admin call and a connection %.3f ms\n",
         bare_ms, with_work_ms);
  CHECK(fds1 == fds0);
  CHECK(threads1 == threads0);
  CHECK(rss1 - rss0 <= rss_limit_kib);
  printf("leak loop: ok\n");
  return 0;
}
