#include "actors/errors.hpp"

#include <caf/all.hpp>

namespace hotlead {

problem to_problem(const caf::error& e) {
  if (e.category() == error_category) {
    problem p{static_cast<errc>(e.code()), {}};
    if (e.context().match_elements<std::string>())
      p.detail = e.context().get_as<std::string>(0);
    return p;
  }
  if (e.category() == caf::atom("system")) {
    auto code = static_cast<caf::sec>(e.code());
    if (code == caf::sec::request_receiver_down)
      return {errc::not_ready, "the actor for this request is down; the server is shutting "
                               "down or restarting, retry shortly"};
    if (code == caf::sec::request_timeout)
      return {errc::timeout, "an actor did not answer in time; retry"};
  }
  return {errc::internal, "unexpected internal error: " + caf::to_string(e)};
}

} // namespace hotlead
