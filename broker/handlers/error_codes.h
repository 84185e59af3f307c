// The error codes of a decoded response, at any depth (top level, per topic, per partition, per
// group, member, result...), for the request trace. Generic over the generated response structs:
// it follows the arrays through which responses nest their answers and reads every `error_code`
// member on the way.
//
// Called by the handler wrappers (handler.h) only when an interceptor wants it
// (request_context::collect_error_codes), so the plain request path never walks a response.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

namespace mk::handlers {

namespace detail {

template <typename T>
struct vector_of_class : std::false_type {};
template <typename T>
struct vector_of_class<std::vector<T>> : std::is_class<T> {};

}  // namespace detail

// Adds the distinct non-zero codes of `x` to `out`.
template <typename T>
void collect_error_codes(const T& x, std::vector<int16_t>& out) {
  if constexpr (requires { x.error_code; }) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(x.error_code)>, int16_t>) {
      const int16_t e = x.error_code;
      if (e != 0) {
        bool seen = false;
        for (int16_t o : out) seen = seen || o == e;
        if (!seen) out.push_back(e);
      }
    }
  }
  auto walk = [&out](const auto& field) {
    using F = std::remove_cvref_t<decltype(field)>;
    if constexpr (detail::vector_of_class<F>::value) {
      for (const auto& e : field) collect_error_codes(e, out);
    }
  };
#define MK_WALK(name) \
  if constexpr (requires { x.name; }) walk(x.name);
  MK_WALK(topics)
  MK_WALK(partitions)
  MK_WALK(responses)
  MK_WALK(results)
  MK_WALK(members)
  MK_WALK(groups)
  MK_WALK(topic_results)
  MK_WALK(results_by_transaction)
  MK_WALK(results_by_partition)
  MK_WALK(partition_responses)
  MK_WALK(coordinators)
#undef MK_WALK
}

}  // namespace mk::handlers
