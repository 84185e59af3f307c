/* The C ABI from C99, built against the INSTALLED header and pkg-config file
 * (tests/abi/build_and_run_c.sh): a broker in this process, librdkafka's C API producing and
 * consuming through it with a consumer group, the broker's view (end offsets, lag, topics, the
 * admin routes in-process), error codes and messages, then the broker destroyed. */
#define _POSIX_C_SOURCE 200809L
#include <librdkafka/rdkafka.h>
#include <minikafka/minikafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(cond)                                                                          \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, __LINE__, #cond, \
              minikafka_last_error());                                                       \
      exit(1);                                                                               \
    }                                                                                        \
  } while (0)

#define MESSAGES 30

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap, const char *group) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  CHECK(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) == RD_KAFKA_CONF_OK);
  if (group != NULL) {
    CHECK(rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) == RD_KAFKA_CONF_OK);
    CHECK(rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err) == RD_KAFKA_CONF_OK);
    CHECK(rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) == RD_KAFKA_CONF_OK);
  }
  rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
  if (rk == NULL) {
    fprintf(stderr, "rd_kafka_new: %s\n", err);
    exit(1);
  }
  return rk;
}

int main(void) {
  minikafka_broker *b = NULL;
  int rc;

  /* Versions and error names. */
  CHECK(minikafka_abi_version() == MINIKAFKA_ABI_VERSION);
  CHECK(strlen(minikafka_version()) > 0);
  CHECK(strcmp(minikafka_error_name(36), "TOPIC_ALREADY_EXISTS") == 0);
  CHECK(strcmp(minikafka_error_name(MINIKAFKA_ERR_INVALID_ARGUMENT), "INVALID_ARGUMENT") == 0);

  /* Bad options: no broker, a message naming the option. */
  {
    const char *bad[] = {"no-such-flag", "1", NULL};
    const char *bad_value[] = {"--port", "not-a-number", NULL};
    CHECK(minikafka_create(bad, &b) == MINIKAFKA_ERR_INVALID_ARGUMENT && b == NULL);
    CHECK(strstr(minikafka_last_error(), "no-such-flag") != NULL);
    CHECK(minikafka_create(bad_value, &b) == MINIKAFKA_ERR_INVALID_ARGUMENT && b == NULL);
  }

  {
    const char *opts[] = {"default-partitions", "3", "log-level", "warn", "--auto-create-topics", "false", NULL};
    CHECK(minikafka_create(opts, &b) == MINIKAFKA_OK);
  }
  CHECK(strcmp(minikafka_bootstrap(b), "") == 0);
  CHECK(minikafka_admin_request(b, "GET", "/v1/topics", NULL, NULL, NULL) == MINIKAFKA_ERR_STATE);
  CHECK(minikafka_start(b) == MINIKAFKA_OK);
  const char *bootstrap = minikafka_bootstrap(b);
  CHECK(strncmp(bootstrap, "127.0.0.1:", 10) == 0 && minikafka_port(b) > 0);
  CHECK(strncmp(minikafka_admin_url(b), "http://127.0.0.1:", 17) == 0);
  printf("broker %s (admin %s), minikafka %s\n", bootstrap, minikafka_admin_url(b), minikafka_version());

  /* A second broker on the same port: MINIKAFKA_ERR_IO, naming the listener. */
  {
    char port[16];
    minikafka_broker *clash = NULL;
    snprintf(port, sizeof port, "%d", minikafka_port(b));
    const char *opts[] = {"port", port, "admin-port", "-1", NULL};
    CHECK(minikafka_create(opts, &clash) == MINIKAFKA_OK);
    CHECK(minikafka_start(clash) == MINIKAFKA_ERR_IO);
    CHECK(strstr(minikafka_last_error(), port) != NULL);
    minikafka_destroy(clash);
  }

  {
    const char *configs[] = {"retention.ms", "600000", NULL};
    CHECK(minikafka_topic_create(b, "orders", 3, configs) == MINIKAFKA_OK);
  }
  CHECK(minikafka_topic_create(b, "orders", 3, NULL) == 36); /* TOPIC_ALREADY_EXISTS */
  CHECK(strstr(minikafka_last_error(), "TOPIC_ALREADY_EXISTS") != NULL);
  CHECK(minikafka_topic_create(b, "bad name!", 1, NULL) == 17); /* INVALID_TOPIC_EXCEPTION */

  /* Produce through librdkafka. */
  rd_kafka_t *producer = client(RD_KAFKA_PRODUCER, bootstrap, NULL);
  for (int i = 0; i < MESSAGES; i++) {
    char key[16], value[32];
    snprintf(key, sizeof key, "k%d", i);
    snprintf(value, sizeof value, "{\"n\":%d}", i);
    rd_kafka_resp_err_t err = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("orders"), RD_KAFKA_V_KEY(key, strlen(key)),
                                                RD_KAFKA_V_VALUE(value, strlen(value)),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    CHECK(err == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  CHECK(rd_kafka_flush(producer, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(producer);

  int64_t ends[8];
  size_t partitions = 0;
  CHECK(minikafka_end_offsets(b, "orders", ends, 8, &partitions) == MINIKAFKA_OK && partitions == 3);
  CHECK(ends[0] + ends[1] + ends[2] == MESSAGES);
  int64_t one = -1;
  CHECK(minikafka_end_offset(b, "orders", 1, &one) == MINIKAFKA_OK && one == ends[1]);
  CHECK(minikafka_end_offset(b, "orders", 7, &one) == 3); /* UNKNOWN_TOPIC_OR_PARTITION */

  /* Consume with a group, commit, and read the lag back from the broker. */
  rd_kafka_t *consumer = client(RD_KAFKA_CONSUMER, bootstrap, "c99-group");
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, "orders", RD_KAFKA_PARTITION_UA);
  CHECK(rd_kafka_subscribe(consumer, topics) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(topics);
  int received = 0;
  double deadline = now_s() + 30;
  while (received < MESSAGES && now_s() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 200);
    if (m == NULL) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) received++;
    rd_kafka_message_destroy(m);
  }
  CHECK(received == MESSAGES);
  CHECK(rd_kafka_commit(consumer, NULL, 0) == RD_KAFKA_RESP_ERR_NO_ERROR);

  minikafka_partition_lag *lags = NULL;
  size_t nlags = 0;
  int64_t total = -1;
  CHECK(minikafka_group_lag(b, "c99-group", &lags, &nlags, &total) == MINIKAFKA_OK);
  CHECK(nlags >= 1 && total == 0);
  for (size_t i = 0; i < nlags; i++) {
    CHECK(strcmp(lags[i].topic, "orders") == 0 && lags[i].committed == lags[i].end_offset && lags[i].lag == 0);
  }
  minikafka_group_lag_free(lags, nlags);
  CHECK(rd_kafka_consumer_close(consumer) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(consumer);

  /* Admin routes in-process. */
  int status = 0;
  char *body = NULL;
  CHECK(minikafka_admin_request(b, "GET", "/v1/topics", NULL, &status, &body) == MINIKAFKA_OK);
  CHECK(status == 200 && strstr(body, "orders") != NULL);
  minikafka_free(body);
  CHECK(minikafka_admin_request(b, "POST", "/v1/topics", "{\"name\":\"events\",\"partitions\":2}", &status, NULL) ==
        MINIKAFKA_OK);
  CHECK(minikafka_admin_request(b, "GET", "/v1/topics/orders/partitions/0/records?offset=0&limit=1", NULL, &status,
                                &body) == MINIKAFKA_OK);
  CHECK(status == 200);
  minikafka_free(body);
  rc = minikafka_admin_request(b, "GET", "/v1/no-such-route", NULL, &status, &body);
  CHECK(rc == MINIKAFKA_ERR_HTTP && status == 404 && body != NULL);
  minikafka_free(body);

  char **names = NULL;
  size_t count = 0;
  CHECK(minikafka_topics_list(b, &names, &count) == MINIKAFKA_OK && count == 2);
  CHECK(strcmp(names[0], "events") == 0 && strcmp(names[1], "orders") == 0 && names[2] == NULL);
  minikafka_strings_free(names);
  CHECK(minikafka_topic_delete(b, "orders") == MINIKAFKA_OK);
  CHECK(minikafka_topic_delete(b, "orders") == 3);
  CHECK(minikafka_topics_list(b, &names, &count) == MINIKAFKA_OK && count == 1);
  minikafka_strings_free(names);

  CHECK(minikafka_stop(b) == MINIKAFKA_OK);
  CHECK(minikafka_stop(b) == MINIKAFKA_OK);
  minikafka_destroy(b);
  minikafka_destroy(NULL);
  printf("c99: produced and consumed %d messages through librdkafka; ok\n", MESSAGES);
  return 0;
}
