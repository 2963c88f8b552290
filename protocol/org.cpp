#include "protocol/org.hpp"

namespace hotlead {

namespace {
constexpr std::string_view role_names[] = {"root",      "admin",   "manager",
                                           "sales_rep", "analyst", "viewer"};
}

std::string_view to_string(role r) {
  return role_names[static_cast<size_t>(r)];
}

std::optional<role> parse_role(std::string_view text) {
  for (size_t i = 1; i < std::size(role_names); ++i)
    if (role_names[i] == text)
      return static_cast<role>(i);
  return std::nullopt;
}

bool allowed(role r, permission p) {
  switch (p) {
    case permission::read_leads:
      return r != role::root;
    case permission::write_leads:
      return r == role::admin || r == role::manager || r == role::sales_rep;
    case permission::delete_leads:
      return r == role::admin || r == role::manager;
    case permission::manage_webhooks:
      return r == role::admin || r == role::manager;
    case permission::manage_keys:
      return r == role::admin || r == role::root;
    case permission::manage_orgs:
    case permission::operate:
      return r == role::root;
  }
  return false;
}

} // namespace hotlead
