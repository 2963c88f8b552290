// Validation limits for leads and events. Defaults are the documented ones in
// cluster.conf ([limits]); the server passes the configured values.
#pragma once

#include <cstddef>

namespace hotlead {

struct limits {
  size_t max_attributes = 64;    // custom attributes per lead
  size_t max_tags = 32;          // tags per lead
  size_t max_text = 256;         // names, company, title, owner
  size_t max_attr_string = 1024; // a string attribute value
  size_t max_properties = 4096;  // bytes of an event's properties JSON
  size_t max_batch = 10000;      // items of one events:batch request
};

} // namespace hotlead
