/*
 * rdkafka_mock_broker: the "anchor" broker for minikafka's client tests and benchmarks.
 *
 * Runs librdkafka's built-in mock cluster (1 broker, or --brokers N) and speaks the same
 * start-up contract as the minikafka binary:
 *   - the first stdout line is "kafka HOST:PORT" (the mock's bootstrap servers, comma-separated
 *     when there are several brokers), flushed;
 *   - logs go to stderr;
 *   - SIGTERM / SIGINT stop it (exit 0).
 *
 * Flags (parsed loosely; unknown flags and their value are ignored, so it can be started
 * with the broker's flags such as --host 127.0.0.1 --port 0):
 *   --topic NAME:PARTITIONS   create a topic in the mock before printing the banner (repeatable)
 *   --brokers N               brokers in the mock cluster (default 1)
 *   --log-level LEVEL         "debug" enables librdkafka mock debug logging on stderr
 *
 * Test-only control channel (anchor only, the real broker has none): each stdin line
 *   "topic NAME PARTITIONS"   creates a topic and answers "ok topic NAME" or "err topic NAME <why>"
 * on stdout. The mock cluster lacks CreateTopics, so this lets tests that are not about the
 * admin API create the topics they need when run against the anchor. EOF on stdin is ignored.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static rd_kafka_mock_cluster_t *g_mcluster;
static pthread_mutex_t g_out_lock = PTHREAD_MUTEX_INITIALIZER;

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--topic NAME:PARTITIONS]... [--brokers N] [--log-level debug|info|...] [ignored flags]\n",
          argv0);
}

/* Creates NAME with PARTITIONS partitions; returns 0 on success, else fills why. */
static int create_topic(const char *name, int partitions, char *why, size_t why_sz) {
  if (!name[0] || partitions <= 0) {
    snprintf(why, why_sz, "invalid topic spec");
    return -1;
  }
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(g_mcluster, name, partitions, 1);
  if (err) {
    snprintf(why, why_sz, "%s", rd_kafka_err2str(err));
    return -1;
  }
  return 0;
}

/* Parses "NAME:PARTITIONS" in place. */
static int parse_topic_spec(char *spec, char **name, int *partitions) {
  char *colon = strrchr(spec, ':');
  if (!colon) {
    *name = spec;
    *partitions = 1;
    return 0;
  }
  *colon = '\0';
  char *end = NULL;
  long n = strtol(colon + 1, &end, 10);
  if (!end || *end != '\0' || n <= 0 || n > 100000) return -1;
  *name = spec;
  *partitions = (int)n;
  return 0;
}

static void *stdin_control(void *arg) {
  (void)arg;
  char line[1024];
  while (fgets(line, sizeof line, stdin)) {
    char cmd[32], name[512];
    int partitions = 0;
    char why[256] = "";
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '\0') continue;
    if (sscanf(line, "%31s %511s %d", cmd, name, &partitions) == 3 && strcmp(cmd, "topic") == 0) {
      int rc = create_topic(name, partitions, why, sizeof why);
      pthread_mutex_lock(&g_out_lock);
      if (rc == 0)
        printf("ok topic %s\n", name);
      else
        printf("err topic %s %s\n", name, why);
      fflush(stdout);
      pthread_mutex_unlock(&g_out_lock);
    } else {
      pthread_mutex_lock(&g_out_lock);
      printf("err unknown command\n");
      fflush(stdout);
      pthread_mutex_unlock(&g_out_lock);
    }
  }
  return NULL; /* EOF: keep running until a signal arrives */
}

int main(int argc, char **argv) {
  int debug = 0;
  int brokers = 1;
  char **topics = calloc((size_t)argc + 1, sizeof(char *));
  int ntopics = 0;
  if (!topics) return 1;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
    char flag[128];
    const char *eq = strchr(a, '=');
    if (strncmp(a, "--", 2) == 0 && eq) {
      size_t n = (size_t)(eq - a);
      if (n >= sizeof flag) n = sizeof flag - 1;
      memcpy(flag, a, n);
      flag[n] = '\0';
      val = eq + 1;
    } else {
      snprintf(flag, sizeof flag, "%s", a);
      if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) val = argv[i + 1];
    }
    int consumed_next = (val && !eq) ? 1 : 0;
    if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
      usage(argv[0]);
      return 0;
    } else if (strcmp(flag, "--topic") == 0) {
      if (!val) {
        usage(argv[0]);
        return 2;
      }
      topics[ntopics++] = strdup(val);
    } else if (strcmp(flag, "--brokers") == 0) {
      brokers = val ? atoi(val) : 0;
      if (brokers < 1) {
        usage(argv[0]);
        return 2;
      }
    } else if (strcmp(flag, "--log-level") == 0) {
      if (val && (strcmp(val, "debug") == 0 || strcmp(val, "trace") == 0)) debug = 1;
    }
    /* everything else (--host, --port, --advertised-host, --default-partitions,
     * --auto-create-topics, ...) is accepted and ignored */
    i += consumed_next;
  }

  /* Block the stop signals in every thread (librdkafka's included); main sigwait()s them. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* Quiet unless --log-level debug: the handle has no bootstrap.servers, which warns (level 5). */
  if (!debug) rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr);
  if (debug && rd_kafka_conf_set(conf, "debug", "mock,broker,protocol", errstr, sizeof errstr) !=
                   RD_KAFKA_CONF_OK) {
    fprintf(stderr, "conf: %s\n", errstr);
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    fprintf(stderr, "rd_kafka_new failed: %s\n", errstr);
    return 1;
  }
  g_mcluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (!g_mcluster) {
    fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
    rd_kafka_destroy(rk);
    return 1;
  }

  for (int t = 0; t < ntopics; t++) {
    char *name = NULL;
    int partitions = 0;
    char why[256];
    if (parse_topic_spec(topics[t], &name, &partitions) != 0 ||
        create_topic(name, partitions, why, sizeof why) != 0) {
      fprintf(stderr, "bad --topic %s\n", topics[t]);
      rd_kafka_mock_cluster_destroy(g_mcluster);
      rd_kafka_destroy(rk);
      return 2;
    }
    free(topics[t]);
  }
  free(topics);

  pthread_mutex_lock(&g_out_lock);
  printf("kafka %s\n", rd_kafka_mock_cluster_bootstraps(g_mcluster));
  fflush(stdout);
  pthread_mutex_unlock(&g_out_lock);
  fprintf(stderr, "rdkafka mock cluster (librdkafka %s) listening on %s\n", rd_kafka_version_str(),
          rd_kafka_mock_cluster_bootstraps(g_mcluster));

  pthread_t ctl;
  if (pthread_create(&ctl, NULL, stdin_control, NULL) == 0) pthread_detach(ctl);

  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  fprintf(stderr, "signal %d: stopping\n", sig);
  rd_kafka_mock_cluster_destroy(g_mcluster);
  rd_kafka_destroy(rk);
  return 0;
}
