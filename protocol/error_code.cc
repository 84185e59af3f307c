#include "protocol/error_code.h"

namespace mk::proto {

const char* error_name(error_code e) {
  switch (e) {
#define MK_X(name, code, retriable) \
  case error_code::name:            \
    return #name;
    MK_KAFKA_ERRORS(MK_X)
#undef MK_X
  }
  return "unknown";
}

bool is_retriable(error_code e) {
  switch (e) {
#define MK_X(name, code, retriable) \
  case error_code::name:            \
    return retriable;
    MK_KAFKA_ERRORS(MK_X)
#undef MK_X
  }
  return false;
}

}  // namespace mk::proto
