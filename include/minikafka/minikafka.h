/* minikafka's C ABI: run a Kafka-compatible broker inside any process (C, Python ctypes, ...).
 *
 *   minikafka_broker *b = NULL;
 *   const char *opts[] = {"default-partitions", "3", NULL};
 *   if (minikafka_create(opts, &b) != MINIKAFKA_OK || minikafka_start(b) != MINIKAFKA_OK) {
 *     fprintf(stderr, "minikafka: %s\n", minikafka_last_error());
 *     ...
 *   }
 *   const char *servers = minikafka_bootstrap(b);   // "127.0.0.1:41234" for bootstrap.servers
 *   minikafka_topic_create(b, "orders", 3, NULL);
 *   ...
 *   minikafka_destroy(b);                           // stops it too
 *
 * Link: pkg-config --cflags --libs minikafka, or find_package(minikafka) and minikafka::minikafka.
 *
 * Stability: the library is libminikafka.so.MINIKAFKA_ABI_VERSION. Within one ABI version,
 * functions are only added, never changed or removed, and the structures here never change.
 * Option names, admin routes and Kafka error codes are strings and numbers, so new broker
 * features (the control plane: fault rules, reset, manual clock, awaits; simulated clusters)
 * reach C callers through minikafka_create's options and minikafka_admin_request without a
 * new ABI.
 *
 * Errors: functions return int: MINIKAFKA_OK (0); a positive Kafka error code, the same numbers
 * as Kafka's protocol (36 TOPIC_ALREADY_EXISTS, 3 UNKNOWN_TOPIC_OR_PARTITION, ...); or a negative
 * MINIKAFKA_ERR_* code. After any failure minikafka_last_error() describes it.
 *
 * Threads: every function may be called from any thread, concurrently, on the same broker,
 * except minikafka_destroy, which must be the last call on a broker. Several brokers may run in
 * one process; each has one thread of its own. No C++ exception crosses this boundary.
 *
 * Memory: strings and arrays returned through an out-parameter are allocated by the library and
 * freed with the matching minikafka_*_free / minikafka_free; const char * results are owned by
 * the broker and valid until minikafka_destroy (or, for minikafka_last_error, until the next
 * call on that thread). Pure C99.
 */
#ifndef MINIKAFKA_MINIKAFKA_H
#define MINIKAFKA_MINIKAFKA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MINIKAFKA_API __attribute__((visibility("default")))
#else
#define MINIKAFKA_API
#endif

/* The major version of this ABI: the library's SONAME is libminikafka.so.1. */
#define MINIKAFKA_ABI_VERSION 1

/* Return codes. Positive values are Kafka protocol error codes. */
#define MINIKAFKA_OK 0
#define MINIKAFKA_ERR_UNKNOWN (-1)          /* also Kafka's UNKNOWN_SERVER_ERROR */
#define MINIKAFKA_ERR_INVALID_ARGUMENT (-2) /* NULL handle, unknown option, bad option value */
#define MINIKAFKA_ERR_STATE (-3)            /* not started (or already started) */
#define MINIKAFKA_ERR_IO (-4)               /* the port could not be bound, storage could not open */
#define MINIKAFKA_ERR_NO_MEMORY (-5)
#define MINIKAFKA_ERR_HTTP (-6)             /* minikafka_admin_request: a status >= 400 */

/* An opaque broker. */
typedef struct minikafka_broker minikafka_broker;

/* Consumer lag of one partition for a group (minikafka_group_lag). */
typedef struct minikafka_partition_lag {
  const char *topic;
  int32_t partition;
  int64_t committed;  /* -1: nothing committed */
  int64_t end_offset; /* high watermark */
  int64_t lag;        /* end_offset - committed (or - log start when nothing is committed) */
} minikafka_partition_lag;

/* The broker's version, as `minikafka --version` and GET /v1/cluster report it ("0.1.0"). */
MINIKAFKA_API const char *minikafka_version(void);
/* MINIKAFKA_ABI_VERSION of the loaded library. */
MINIKAFKA_API int minikafka_abi_version(void);
/* A fixed text for a return code ("TOPIC_ALREADY_EXISTS", "invalid argument", ...). */
MINIKAFKA_API const char *minikafka_error_name(int code);
/* What went wrong in the last failed call on this thread ("" if none). Valid until the next
 * minikafka_* call on this thread. */
MINIKAFKA_API const char *minikafka_last_error(void);

/* Creates a broker, not yet started. `options` is NULL or a NULL-terminated array of
 * key, value, key, value, ... strings; keys are the command-line flag names, with or without
 * the leading "--" ("port", "host", "advertised-host", "admin-port", "admin-host", "node-id",
 * "cluster-id", "default-partitions", "auto-create-topics", "strict-replication-factor",
 * "max-request-size", "storage", "data-dir", "sync", "max-memory-bytes",
 * "retention-check-interval-ms", "group-initial-rebalance-delay-ms",
 * "group-min-session-timeout-ms", "group-max-session-timeout-ms", "transaction-max-timeout-ms",
 * "record-requests", "log-level"). Defaults are the binary's, except port 0 (ephemeral); the
 * admin API is on an ephemeral port with port 0, else on 9644 ("admin-port" "-1" turns it off). "log-level" sets the level
 * of minikafka's stderr log for the whole process. Booleans: "true"/"false" (also 1/0).
 * An unknown key or a bad value: MINIKAFKA_ERR_INVALID_ARGUMENT and no broker. */
MINIKAFKA_API int minikafka_create(const char *const *options, minikafka_broker **out);
/* Stops (if needed) and frees the broker. NULL is ignored. */
MINIKAFKA_API void minikafka_destroy(minikafka_broker *broker);

/* Binds the listeners and starts serving. MINIKAFKA_ERR_IO when a port is taken. */
MINIKAFKA_API int minikafka_start(minikafka_broker *broker);
/* Stops serving and closes every connection; data stays until destroy. Idempotent. */
MINIKAFKA_API int minikafka_stop(minikafka_broker *broker);

/* "host:port" for clients' bootstrap.servers; "" before the first start. */
MINIKAFKA_API const char *minikafka_bootstrap(const minikafka_broker *broker);
/* The Kafka port (0 before the first start). */
MINIKAFKA_API int minikafka_port(const minikafka_broker *broker);
/* "http://host:port" of the HTTP admin API, or "" when it is off or before the first start. */
MINIKAFKA_API const char *minikafka_admin_url(const minikafka_broker *broker);

/* Creates a topic. `configs` is NULL or a NULL-terminated key, value, ... array of topic
 * configs ("retention.ms", "60000"). Kafka's errors: TOPIC_ALREADY_EXISTS (36),
 * INVALID_TOPIC_EXCEPTION (17), INVALID_PARTITIONS (37), INVALID_CONFIG (40), ... */
MINIKAFKA_API int minikafka_topic_create(minikafka_broker *broker, const char *name, int32_t partitions,
                                         const char *const *configs);
/* Deletes a topic and its data: UNKNOWN_TOPIC_OR_PARTITION (3) when missing. */
MINIKAFKA_API int minikafka_topic_delete(minikafka_broker *broker, const char *name);
/* The names of all topics, sorted, as a NULL-terminated array (free with minikafka_strings_free);
 * *count (if not NULL) receives their number. */
MINIKAFKA_API int minikafka_topics_list(minikafka_broker *broker, char ***names, size_t *count);
MINIKAFKA_API void minikafka_strings_free(char **strings);

/* The end offset (high watermark: offset of the next record) of one partition. */
MINIKAFKA_API int minikafka_end_offset(minikafka_broker *broker, const char *topic, int32_t partition,
                                       int64_t *offset);
/* The end offsets of every partition of a topic: writes min(capacity, partitions) offsets
 * (offsets may be NULL when capacity is 0) and the topic's partition count to *partitions. */
MINIKAFKA_API int minikafka_end_offsets(minikafka_broker *broker, const char *topic, int64_t *offsets,
                                        size_t capacity, size_t *partitions);

/* Lag of a consumer group on every partition it committed to (free with
 * minikafka_group_lag_free). An unknown group gives an empty array. *total_lag (if not NULL)
 * receives the sum of the lags. */
MINIKAFKA_API int minikafka_group_lag(minikafka_broker *broker, const char *group_id, minikafka_partition_lag **lags,
                                      size_t *count, int64_t *total_lag);
MINIKAFKA_API void minikafka_group_lag_free(minikafka_partition_lag *lags, size_t count);

/* Calls a route of the HTTP admin API in-process, whether or not its listener is on (the route
 * list: GET /v1/topics, POST /v1/topics/{name}/records, GET /v1/groups/{id}, and the control
 * plane under /v1/control/ and /v1/await/ where the broker has it). `method` "GET", "POST",
 * "DELETE", ...; `target` the path and an optional query; `body` NULL or JSON. *status (if not
 * NULL) receives the HTTP status and *response (if not NULL) the body, NUL-terminated (free with
 * minikafka_free). Returns MINIKAFKA_OK for a status below 400, else MINIKAFKA_ERR_HTTP (with
 * the body in minikafka_last_error() too); MINIKAFKA_ERR_STATE before start. Blocks until the
 * route answers: an await route waits for its condition. */
MINIKAFKA_API int minikafka_admin_request(minikafka_broker *broker, const char *method, const char *target,
                                          const char *body, int *status, char **response);

/* Frees a string returned by the library. NULL is ignored. */
MINIKAFKA_API void minikafka_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* MINIKAFKA_MINIKAFKA_H */
