// /v1/openapi.json: the OpenAPI 3.1 document of the route table (routes.h). Operations come from
// the table's entries; the shared schemas, parameters and responses are below.
#include <set>

#include "broker/admin/json_http.h"
#include "broker/admin/routes.h"

namespace mk::admin {

namespace {

constexpr const char* description = R"(The HTTP admin API of minikafka: topics, records, consumer groups, metrics,
over the same state as the Kafka listener (a topic created here is in the next Metadata response).

Errors are `{"error": NAME, "message": TEXT}`. NAME is Kafka's error name in upper case when the
failure is a Kafka error (`UNKNOWN_TOPIC_OR_PARTITION`, `TOPIC_ALREADY_EXISTS`, `OFFSET_OUT_OF_RANGE`,
`NON_EMPTY_GROUP`, `KAFKA_STORAGE_ERROR`, ...), and one of the lower-case names of the `Error`
schema for HTTP-level failures (`bad_request`, `not_found`, ...).

Record keys, values and header values are bytes. The encoding (`text` by default, `base64` or
`json`) says how they are written in JSON, the same way in both directions: set it for all three
with `encoding`, or for one with `key_encoding`, `value_encoding` or `header_encoding` (query
parameters when reading; body fields or query parameters when producing). Header keys are always
text. Headers are a list of `{"key", "value"}` in both directions.)";

constexpr const char* components = R"json({
  "parameters": {
    "topic": {"name": "topic", "in": "path", "required": true, "description": "topic name",
              "schema": {"type": "string"}},
    "partition": {"name": "partition", "in": "path", "required": true, "description": "partition index",
                  "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}},
    "group": {"name": "group", "in": "path", "required": true, "description": "consumer group id",
              "schema": {"type": "string"}},
    "encoding": {"name": "encoding", "in": "query", "description": "how keys, values and header values are written: text (UTF-8; the default), base64, or json (the bytes are a JSON document)",
                 "schema": {"$ref": "#/components/schemas/Encoding"}},
    "key_encoding": {"name": "key_encoding", "in": "query", "description": "overrides encoding for record keys",
                     "schema": {"$ref": "#/components/schemas/Encoding"}},
    "value_encoding": {"name": "value_encoding", "in": "query", "description": "overrides encoding for record values",
                       "schema": {"$ref": "#/components/schemas/Encoding"}},
    "header_encoding": {"name": "header_encoding", "in": "query", "description": "overrides encoding for header values",
                        "schema": {"$ref": "#/components/schemas/Encoding"}},
    "wait_ms": {"name": "wait_ms", "in": "query", "description": "when there is nothing to return yet, wait up to this long for records to arrive and answer as soon as some do (as a Kafka Fetch's max wait); 0, the default, answers at once",
                "schema": {"type": "integer", "minimum": 0, "maximum": 60000, "default": 0}},
    "limit": {"name": "limit", "in": "query", "description": "most records to return (default 100)",
              "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}}
  },
  "responses": {
    "Error": {"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  },
  "schemas": {
    "Error": {
      "type": "object", "required": ["error", "message"], "additionalProperties": false,
      "properties": {
        "error": {"type": "string", "description": "Kafka's error name (upper case) or an HTTP-level name (lower case, HttpErrorName)",
                  "anyOf": [{"$ref": "#/components/schemas/HttpErrorName"}, {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"}]},
        "message": {"type": "string", "minLength": 1}}},
    "HttpErrorName": {"type": "string", "enum": []},
    "Encoding": {"type": "string", "enum": ["text", "base64", "json", "string"], "default": "text",
                 "description": "text: a JSON string holding the UTF-8 bytes (reading bytes that are not UTF-8 fails with not_text); base64: a base64 string (reading: standard alphabet, padded; producing: URL-safe and unpadded are accepted too); json: the bytes are one JSON document, written as that JSON value (reading bytes that are not JSON fails with not_json). \"string\" is the old name of text, accepted on input. null is Kafka's null in every encoding. When producing as text, a JSON value that is not a string is stored as its JSON text."},
    "Bytes": {"description": "key, value or header value in the request's encoding; null is Kafka's null"},
    "Header": {
      "type": "object", "required": ["key", "value"], "additionalProperties": false,
      "properties": {"key": {"type": "string"}, "value": {"$ref": "#/components/schemas/Bytes"}}},
    "Record": {
      "type": "object", "required": ["partition", "offset", "timestamp", "key", "value", "headers"], "additionalProperties": false,
      "properties": {
        "partition": {"type": "integer"}, "offset": {"type": "integer"},
        "timestamp": {"type": "integer", "description": "milliseconds since the epoch, as stored (CreateTime or LogAppendTime)"},
        "key": {"$ref": "#/components/schemas/Bytes"}, "value": {"$ref": "#/components/schemas/Bytes"},
        "headers": {"type": "array", "items": {"$ref": "#/components/schemas/Header"}}}},
    "NewRecord": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "key": {"$ref": "#/components/schemas/Bytes"}, "value": {"$ref": "#/components/schemas/Bytes"},
        "headers": {"description": "a list of {key, value} (repeated keys and order kept), or (older form) an object of key: value",
                    "oneOf": [{"type": "array", "items": {"$ref": "#/components/schemas/Header"}},
                              {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Bytes"}}]},
        "partition": {"type": "integer", "minimum": 0, "description": "default: by key (Kafka's murmur2 partitioner, as Java and librdkafka's consistent_random), round robin without a key"},
        "timestamp": {"type": "integer", "minimum": -1, "description": "milliseconds since the epoch; default (or -1): now"}}},
    "ProduceRequest": {
      "type": "object", "required": ["records"], "additionalProperties": false,
      "properties": {
        "records": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/NewRecord"}},
        "encoding": {"$ref": "#/components/schemas/Encoding"}, "key_encoding": {"$ref": "#/components/schemas/Encoding"},
        "value_encoding": {"$ref": "#/components/schemas/Encoding"}, "header_encoding": {"$ref": "#/components/schemas/Encoding"}}},
    "ProduceResponse": {
      "type": "object", "required": ["topic", "results"], "additionalProperties": false,
      "properties": {
        "topic": {"type": "string"},
        "results": {"type": "array", "description": "one per partition written, in the order of each partition's first record; that partition's records have consecutive offsets from base_offset, in request order",
                    "items": {"type": "object", "required": ["partition", "base_offset"], "additionalProperties": false,
                              "properties": {"partition": {"type": "integer"}, "base_offset": {"type": "integer"}}}}}},
    "PartitionRecords": {
      "type": "object", "required": ["topic", "partition", "records", "next_offset", "end_offset"], "additionalProperties": false,
      "properties": {
        "topic": {"type": "string"}, "partition": {"type": "integer"},
        "records": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}},
        "next_offset": {"type": "integer", "description": "the offset to read next (pass it as offset=)"},
        "end_offset": {"type": "integer", "description": "the partition's end offset (high watermark)"}}},
    "TopicRecords": {
      "type": "object", "required": ["topic", "records", "cursor", "partitions"], "additionalProperties": false,
      "properties": {
        "topic": {"type": "string"},
        "records": {"type": "array", "items": {"$ref": "#/components/schemas/Record"},
                    "description": "records of every partition, each partition's in offset order, merged by timestamp (equal timestamps: lower partition first)"},
        "cursor": {"type": "string", "pattern": "^([0-9]+:[0-9]+(,[0-9]+:[0-9]+)*)?$",
                   "description": "where to continue, PARTITION:OFFSET for every partition (pass it as cursor=)"},
        "partitions": {"type": "array", "items": {"type": "object", "required": ["partition", "next_offset", "end_offset"], "additionalProperties": false,
                       "properties": {"partition": {"type": "integer"}, "next_offset": {"type": "integer"}, "end_offset": {"type": "integer"}}}}}},
    "TopicSummary": {
      "type": "object", "required": ["name", "id", "partitions", "replication_factor"], "additionalProperties": false,
      "properties": {"name": {"type": "string"}, "id": {"type": "string", "description": "topic id, base64 (as Kafka tools print it)"},
                     "partitions": {"type": "integer"}, "replication_factor": {"type": "integer"}}},
    "TopicDetail": {
      "type": "object", "required": ["name", "id", "partitions", "replication_factor", "configs", "config_overrides", "partition_details"],
      "additionalProperties": false,
      "properties": {
        "name": {"type": "string"}, "id": {"type": "string"}, "partitions": {"type": "integer"}, "replication_factor": {"type": "integer"},
        "configs": {"type": "object", "additionalProperties": {"type": "string"}, "description": "every topic config, defaults included"},
        "config_overrides": {"type": "object", "additionalProperties": {"type": "string"}, "description": "configs set on this topic"},
        "partition_details": {"type": "array", "items": {
          "type": "object", "required": ["partition", "leader", "leader_epoch", "replicas", "isr", "start_offset", "end_offset", "size_bytes"],
          "additionalProperties": false,
          "properties": {"partition": {"type": "integer"}, "leader": {"type": "integer", "description": "broker id, -1 while every replica is down"},
                         "leader_epoch": {"type": "integer"},
                         "replicas": {"type": "array", "items": {"type": "integer"}},
                         "isr": {"type": "array", "items": {"type": "integer"}, "description": "the replicas that are up"},
                         "start_offset": {"type": "integer"}, "end_offset": {"type": "integer"}, "size_bytes": {"type": "integer"}}}}}},
    "CreateTopic": {
      "type": "object", "required": ["name"],
      "properties": {
        "name": {"type": "string"},
        "partitions": {"type": "integer", "description": "default: --default-partitions (-1 too)"},
        "replication_factor": {"type": "integer", "description": "default 1 (-1 too)"},
        "configs": {"type": "object", "description": "topic configs; a number or boolean is taken as its text",
                    "additionalProperties": {"type": ["string", "number", "boolean"]}}}},
    "GrowPartitions": {"type": "object", "required": ["count"], "properties": {"count": {"type": "integer", "minimum": 1, "description": "the new partition count, more than today's"}}},
    "Deleted": {"type": "object", "required": ["deleted"], "additionalProperties": false, "properties": {"deleted": {"type": "string"}}},
    "Cluster": {
      "type": "object", "required": ["cluster_id", "broker_id", "controller_id", "brokers", "listeners", "version", "uptime_ms", "storage", "topics"],
      "additionalProperties": false,
      "properties": {
        "cluster_id": {"type": "string"}, "broker_id": {"type": "integer", "description": "the first broker's id"},
        "controller_id": {"type": "integer", "description": "the lowest live broker id, -1 when all are down"},
        "brokers": {"type": "array", "items": {"$ref": "#/components/schemas/Broker"}},
        "listeners": {"type": "array", "items": {"type": "object", "required": ["name", "host", "port"], "additionalProperties": false,
                      "properties": {"name": {"type": "string", "description": "kafka or admin"}, "host": {"type": "string"},
                                     "port": {"type": "integer"}, "node_id": {"type": "integer", "description": "Kafka listeners only"}}}},
        "version": {"type": "string"}, "uptime_ms": {"type": "integer", "minimum": 0},
        "storage": {"type": "string", "enum": ["memory", "rocksdb"]}, "topics": {"type": "integer", "description": "number of topics"}}},
    "Broker": {
      "type": "object", "required": ["id", "host", "port", "up"], "additionalProperties": false,
      "properties": {"id": {"type": "integer"}, "host": {"type": "string"}, "port": {"type": "integer"}, "up": {"type": "boolean"},
                     "controller_id": {"type": "integer", "description": "the cluster's controller after the change (control routes only)"}}},
    "PartitionLeader": {
      "type": "object", "required": ["topic", "partition", "leader", "leader_epoch", "replicas", "isr"], "additionalProperties": false,
      "properties": {"topic": {"type": "string"}, "partition": {"type": "integer"}, "leader": {"type": "integer"}, "leader_epoch": {"type": "integer"},
                     "replicas": {"type": "array", "items": {"type": "integer"}}, "isr": {"type": "array", "items": {"type": "integer"}}}},
    "GroupCoordinator": {
      "type": "object", "required": ["group", "coordinator"], "additionalProperties": false,
      "properties": {"group": {"type": "string"}, "coordinator": {"type": "integer", "description": "broker id"}}},
    "BrokerChoice": {"type": "object", "required": ["broker"], "properties": {"broker": {"type": "integer", "description": "a broker id"}}},
    "GroupSummary": {
      "type": "object", "required": ["group_id", "state", "protocol_type", "members"], "additionalProperties": false,
      "properties": {"group_id": {"type": "string"}, "state": {"type": "string"}, "protocol_type": {"type": "string"},
                     "members": {"type": "integer"}}},
    "GroupDetail": {
      "type": "object", "required": ["group_id", "state", "protocol_type", "protocol", "generation_id", "leader", "members", "offsets", "total_lag", "coordinator"],
      "additionalProperties": false,
      "properties": {
        "group_id": {"type": "string"},
        "coordinator": {"type": "integer", "description": "the broker id coordinating the group (-1: none up)"},
        "state": {"type": "string", "description": "Kafka's group states: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead"},
        "protocol_type": {"type": "string"}, "protocol": {"type": "string"}, "generation_id": {"type": "integer"}, "leader": {"type": "string"},
        "members": {"type": "array", "items": {
          "type": "object", "required": ["member_id", "group_instance_id", "client_id", "client_host", "assignment"], "additionalProperties": false,
          "properties": {
            "member_id": {"type": "string"}, "group_instance_id": {"type": ["string", "null"]},
            "client_id": {"type": "string"}, "client_host": {"type": "string"},
            "assignment": {"description": "the consumer protocol's assignment, or {base64} of the bytes for another protocol",
                           "oneOf": [{"type": "array", "items": {"type": "object", "required": ["topic", "partitions"], "additionalProperties": false,
                                      "properties": {"topic": {"type": "string"}, "partitions": {"type": "array", "items": {"type": "integer"}}}}},
                                     {"type": "object", "required": ["base64"], "additionalProperties": false, "properties": {"base64": {"type": "string"}}}]}}}},
        "offsets": {"type": "array", "items": {
          "type": "object", "required": ["topic", "partition", "committed_offset", "end_offset", "lag", "metadata"], "additionalProperties": false,
          "properties": {"topic": {"type": "string"}, "partition": {"type": "integer"}, "committed_offset": {"type": "integer"},
                         "end_offset": {"type": "integer"}, "lag": {"type": "integer"}, "metadata": {"type": "string"}}}},
        "total_lag": {"type": "integer"}}},
    "ResetOffsets": {
      "type": "object", "required": ["topic", "to"],
      "properties": {
        "topic": {"type": "string"},
        "partitions": {"type": "array", "items": {"type": "integer"}, "description": "default: every partition"},
        "to": {"type": "string", "enum": ["earliest", "latest", "offset", "timestamp"]},
        "offset": {"type": "integer", "description": "with to=offset"},
        "timestamp": {"type": "integer", "description": "with to=timestamp: the first offset at or after it (ms)"}}}
  }
})json";

std::vector<std::string> template_params(const std::string& path) {
  std::vector<std::string> out;
  for (size_t i = path.find('{'); i != std::string::npos; i = path.find('{', i + 1)) {
    auto j = path.find('}', i);
    out.push_back(path.substr(i + 1, j - i - 1));
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string openapi_document(const std::string& version) {
  json comps = json::parse(components);
  json names = json::array();
  std::string table = "\n\nHTTP-level error names:\n";
  for (const auto& e : http_error_names) {
    names.push_back(e.name);
    table += std::string("\n* `") + e.name + "` (" + std::to_string(e.status) + "): " + e.meaning;
  }
  comps["schemas"]["HttpErrorName"]["enum"] = names;
  json paths = json::object();
  for (const auto& r : route_table()) {
    json op = json::parse(r.operation);
    json params = op.value("parameters", json::array());
    std::set<std::string> declared;
    for (const auto& p : params)
      if (p.contains("name")) declared.insert(p["name"].get<std::string>());
    json added = json::array();
    for (const auto& name : template_params(r.path)) {
      if (declared.count(name)) continue;
      if (comps["parameters"].contains(name))
        added.push_back(json{{"$ref", "#/components/parameters/" + name}});
      else
        added.push_back(json{{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    for (auto& p : params) added.push_back(std::move(p));
    if (!added.empty()) op["parameters"] = added;
    if (!op.contains("responses")) op["responses"] = json::object();
    if (!op["responses"].contains("default")) op["responses"]["default"] = json{{"$ref", "#/components/responses/Error"}};
    paths[r.path][lower(r.method)] = std::move(op);
  }
  json doc{{"openapi", "3.1.0"},
           {"info", {{"title", "minikafka admin API"}, {"version", version}, {"description", std::string(description) + table}}},
           {"paths", paths},
           {"components", comps}};
  return doc.dump(2);
}

}  // namespace mk::admin
