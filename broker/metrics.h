// Counters the broker keeps for GET /metrics (Prometheus text format, broker/admin/).
// Runs on: broker state thread only, so plain integers suffice.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace mk {

// Request latency buckets (seconds), Prometheus-style cumulative histogram.
inline constexpr std::array<double, 12> latency_buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                           0.01,   0.025,   0.05,   0.1,   0.5,    1.0};

struct api_metrics {
  uint64_t requests = 0;
  uint64_t errors = 0;  // requests that closed the connection or answered a non-zero error code
  std::array<uint64_t, latency_buckets.size()> buckets{};  // counts per bucket (not cumulative)
  uint64_t latency_count = 0;
  double latency_sum = 0;

  void observe(double seconds) {
    latency_count++;
    latency_sum += seconds;
    for (size_t i = 0; i < latency_buckets.size(); ++i)
      if (seconds <= latency_buckets[i]) {
        buckets[i]++;
        return;
      }
  }
};

struct broker_metrics {
  static constexpr int max_api_key = 128;
  std::array<api_metrics, max_api_key> apis{};
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t connections_opened = 0;
  uint64_t connections_closed = 0;
  uint64_t connections_rejected_requests = 0;  // closed because of a bad frame or request

  api_metrics* api(int16_t key) { return key >= 0 && key < max_api_key ? &apis[static_cast<size_t>(key)] : nullptr; }
};

}  // namespace mk
