// The project's errors inside CAF: CAF 0.17 has no CAF_ERROR_CODE_ENUM, so an
// errc travels as caf::error{code, atom("hotlead")} with the human detail in
// the error's context message. to_problem() recovers the problem.
#pragma once

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "protocol/errors.hpp"

namespace hotlead {

inline constexpr caf::atom_value error_category = caf::atom("hotlead");

inline caf::error make_error(errc code, std::string detail) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(detail))};
}

inline caf::error make_error(const problem& p) {
  return make_error(p.code, p.detail);
}

/// The problem an error stands for: ours carry their errc and detail; CAF's
/// own (an actor down, a timeout) map to not_ready, timeout or internal.
problem to_problem(const caf::error& e);

} // namespace hotlead
