#include "gateway/problem.hpp"

#include <caf/all.hpp>

#include "actors/errors.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

http_reply problem_reply(const problem& p, std::string_view instance) {
  http_reply r;
  r.status = static_cast<unsigned>(http_status(p.code));
  r.content_type = "application/problem+json";
  r.body = problem_json(p, instance);
  return r;
}

} // namespace hotlead
