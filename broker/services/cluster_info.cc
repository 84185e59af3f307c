#include "broker/services/cluster_info.h"

namespace mk::services {

const char* cluster_service::version() { return MINIKAFKA_VERSION; }

}  // namespace mk::services
