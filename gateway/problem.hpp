// The one mapping from errors to HTTP: every caf::error the edge receives
// (ours, carrying an errc, or CAF's own) becomes a problem, and every
// problem an application/problem+json reply with its stable code.
#pragma once

#include <caf/fwd.hpp>

#include "actors/errors.hpp" // to_problem
#include "gateway/http_types.hpp"
#include "protocol/errors.hpp"

namespace hotlead {

http_reply problem_reply(const problem& p, std::string_view instance);

} // namespace hotlead
