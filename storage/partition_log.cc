#include "storage/partition_log.h"

namespace mk::storage {

const char* to_string(errc e) {
  switch (e) {
    case errc::offset_mismatch:
      return "offset_mismatch";
    case errc::out_of_memory:
      return "out_of_memory";
    case errc::io_error:
      return "io_error";
    case errc::not_found:
      return "not_found";
  }
  return "unknown";
}

}  // namespace mk::storage
