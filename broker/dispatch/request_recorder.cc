#include "broker/dispatch/request_recorder.h"

#include <cctype>
#include <fstream>

#include "protocol/generated/api_keys.h"

namespace mk {

request_recorder::request_recorder(std::string dir) : dir_(std::move(dir)), writer_([this] { run(); }) {}

request_recorder::~request_recorder() {
  {
    std::lock_guard lk(mu_);
    done_ = true;
  }
  cv_.notify_one();
  writer_.join();
}

void request_recorder::record(const proto::request_header& h, const uint8_t* frame, size_t size) {
  std::string client;
  for (char c : h.client_id) client.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_');
  const auto* a = proto::find_api_key(h.api_key);
  std::string name = a ? a->name : "unknown";
  std::string snake;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::isupper(static_cast<unsigned char>(name[i])) && i > 0) snake.push_back('_');
    snake.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(name[i]))));
  }
  item it{dir_ + "/" + snake + "_request_v" + std::to_string(h.api_version) + "_" + (client.empty() ? "anonymous" : client) +
              ".bin",
          std::vector<uint8_t>(frame, frame + size)};
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(it));
  }
  cv_.notify_one();
}

void request_recorder::run() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return done_ || !queue_.empty(); });
    if (queue_.empty()) return;  // done and drained
    item it = std::move(queue_.front());
    queue_.pop_front();
    lk.unlock();
    std::ofstream(it.path, std::ios::binary)
        .write(reinterpret_cast<const char*>(it.bytes.data()), static_cast<std::streamsize>(it.bytes.size()));
    lk.lock();
  }
}

}  // namespace mk
