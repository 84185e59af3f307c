#include "broker/plugins.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace mk::plugins {

namespace {

// Relative to the executable's directory; must match the install() destination of plugins and
// helper programs in the top-level CMakeLists.txt.
constexpr char kInstalledDir[] = "../lib/minikafka";

std::string executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path().string();
}

// The directory of the file this code is linked into when that is a shared library
// (libminikafka.so), else "".
std::string library_dir() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&library_dir), &info) == 0 || info.dli_fname == nullptr) return {};
  std::filesystem::path file(info.dli_fname);
  if (file.filename().string().find(".so") == std::string::npos) return {};
  std::error_code ec;
  auto abs = std::filesystem::canonical(file, ec);
  return ec ? std::string() : abs.parent_path().string();
}

}  // namespace

std::vector<std::string> search_dirs() {
  std::vector<std::string> dirs;
  // In libminikafka.so: its own directory (the build tree), then <libdir>/minikafka (installed).
  std::string lib = library_dir();
  if (!lib.empty()) {
    dirs.push_back(lib);
    dirs.push_back((std::filesystem::path(lib) / "minikafka").string());
  }
  std::string dir = executable_dir();
  if (dir.empty()) return dirs;
  dirs.push_back(dir);
  dirs.push_back((std::filesystem::path(dir) / kInstalledDir).lexically_normal().string());
  return dirs;
}

std::optional<std::string> find(const std::string& file_name, std::vector<std::string>* tried) {
  for (const auto& dir : search_dirs()) {
    std::string path = (std::filesystem::path(dir) / file_name).string();
    if (::access(path.c_str(), F_OK) == 0) return path;
    if (tried != nullptr) tried->push_back(path);
  }
  return std::nullopt;
}

std::string join_paths(const std::vector<std::string>& paths) {
  if (paths.empty()) return "(nowhere: cannot read /proc/self/exe)";
  std::string out;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i > 0) out += i + 1 == paths.size() ? " and " : ", ";
    out += paths[i];
  }
  return out;
}

int exec_program(const std::string& file_name, char** argv) {
  std::vector<std::string> tried;
  auto path = find(file_name, &tried);
  if (!path) {
    std::fprintf(stderr, "Error: the command-line tools are not installed: %s not found (looked at %s)\n",
                 file_name.c_str(), join_paths(tried).c_str());
    return 1;
  }
  ::execv(path->c_str(), argv);
  std::fprintf(stderr, "Error: cannot run %s: %s\n", path->c_str(), std::strerror(errno));
  return 1;
}

}  // namespace mk::plugins
