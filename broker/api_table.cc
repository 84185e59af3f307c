#include "broker/api_table.h"

#include "broker/handlers/handler.h"

namespace mk {

api_table api_table::defaults() {
  using namespace proto;
  namespace h = handlers;
  api_table t;
  t.entries_ = {
      {produce_request::api_key, "Produce", 0, 11, &h::produce},
      h::entry<fetch_request, fetch_response, &h::async<fetch_request, fetch_response, &h::fetch>>(),
      h::entry<list_offsets_request, list_offsets_response,
               &h::sync<list_offsets_request, list_offsets_response, &h::list_offsets>>(),
      h::entry<metadata_request, metadata_response, &h::sync<metadata_request, metadata_response, &h::metadata>>(),
      h::entry<find_coordinator_request, find_coordinator_response,
               &h::sync<find_coordinator_request, find_coordinator_response, &h::find_coordinator>>(),
      {api_versions_request::api_key, "ApiVersions", 0, 4, &h::api_versions},
      h::entry<create_topics_request, create_topics_response,
               &h::sync<create_topics_request, create_topics_response, &h::create_topics>>(),
      h::entry<delete_topics_request, delete_topics_response,
               &h::sync<delete_topics_request, delete_topics_response, &h::delete_topics>>(),
      h::entry<describe_configs_request, describe_configs_response,
               &h::sync<describe_configs_request, describe_configs_response, &h::describe_configs>>(),
      h::entry<create_partitions_request, create_partitions_response,
               &h::sync<create_partitions_request, create_partitions_response, &h::create_partitions>>(),
  };
  return t;
}

const api_entry* api_table::find(int16_t key) const {
  for (const auto& e : entries_)
    if (e.key == key) return &e;
  return nullptr;
}

void api_table::set_range(int16_t key, int16_t min_version, int16_t max_version) {
  for (auto& e : entries_)
    if (e.key == key) {
      e.min_version = min_version;
      e.max_version = max_version;
    }
}

void api_table::remove(int16_t key) {
  std::erase_if(entries_, [key](const api_entry& e) { return e.key == key; });
}

void api_table::add(api_entry e) {
  remove(e.key);
  entries_.push_back(e);
}

}  // namespace mk
