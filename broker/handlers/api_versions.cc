// ApiVersions: versions 0-4 (4 is 3 on the wire).
//
// Behaviour:
//  * Lists every entry of this broker's API table, so we never advertise what we do not serve.
//  * v3+ validate ClientSoftwareName/Version (letters, digits, '.', '-'; starting and ending with
//    a letter or digit): INVALID_REQUEST otherwise, still with the API list.
//  * A version above our maximum never reaches here: the connection answers it in v0 with
//    UNSUPPORTED_VERSION and our ApiVersions range (KIP-511), see net/connection.cc.
//  * The response header is always v0 (handled by response_header_version()).
#include "broker/handlers/handler.h"

namespace mk::handlers {

namespace {
bool valid_software_field(const std::string& s) {
  if (s.empty()) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s)
    if (!alnum(c) && c != '.' && c != '-') return false;
  return true;
}
}  // namespace

asio::awaitable<reply> api_versions(request_context& ctx, proto::reader& r) {
  reply out;
  proto::api_versions_request req;
  req.decode(r, ctx.version());
  if (!r.ok()) {
    out.ok = false;
    out.error = "malformed ApiVersionsRequest v" + std::to_string(ctx.version());
    co_return out;
  }
  proto::api_versions_response resp;
  if (ctx.version() >= 3 &&
      (!valid_software_field(req.client_software_name) || !valid_software_field(req.client_software_version)))
    resp.error_code = code(error_code::invalid_request);
  for (const auto& e : ctx.apis.entries()) {
    auto& k = resp.api_keys.emplace_back();
    k.api_key = e.key;
    k.min_version = e.min_version;
    k.max_version = e.max_version;
  }
  if (ctx.collect_error_codes) collect_error_codes(resp, out.error_codes);
  std::sort(resp.api_keys.begin(), resp.api_keys.end(),
            [](const auto& a, const auto& b) { return a.api_key < b.api_key; });
  resp.encode(out.body, ctx.version());
  co_return out;
}

void api_versions_unsupported(const api_entry& e, proto::writer& w) {
  w.i16(code(error_code::unsupported_version));
  w.i32(1);
  w.i16(e.key);
  w.i16(e.min_version);
  w.i16(e.max_version);
}

}  // namespace mk::handlers
