// --record-requests DIR: writes every request frame (header + body, without the size prefix) to
// DIR/<api>_request_v<version>_<client_id>.bin (last one wins), to capture golden frames.
// The state thread only copies the frame into a queue; a writer thread of its own does the file
// I/O, so recording never blocks a request on the disk.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "protocol/framing.h"

namespace mk {

class request_recorder {
 public:
  explicit request_recorder(std::string dir);
  ~request_recorder();  // writes what is queued, then stops
  request_recorder(const request_recorder&) = delete;
  request_recorder& operator=(const request_recorder&) = delete;

  // Runs on: broker state thread.
  void record(const proto::request_header& h, const uint8_t* frame, size_t size);

 private:
  void run();
  struct item {
    std::string path;
    std::vector<uint8_t> bytes;
  };
  std::string dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<item> queue_;
  bool done_ = false;
  std::thread writer_;
};

}  // namespace mk
