// A shard's part of a bulk import: the creates and updates of one batch
// (msg::write_leads), applied in order under one write lock and journaled in
// one write. Each item is scored and gets its history entry as a single
// create or patch would; an item the shard refuses (a missing lead, too
// many attributes) is reported and the others go on. The batch is answered
// once durable; a failed journal write rolls every lead of the batch back
// and answers the batch with the error.
#include <caf/all.hpp>

#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/shard_state.hpp"

namespace hotlead {

namespace shard_detail {

caf::result<msg::write_leads_outcome> write_leads(self_ptr self, msg::write_leads& m) {
  msg::write_leads_outcome out;
  out.items.reserve(m.items.size());
  std::vector<write_op> ops;
  ops.reserve(3 * m.items.size());
  std::vector<uint64_t> ids;
  {
    auto w = self->state.table->write_lock();
    for (auto& it : m.items) {
      auto before = ops.size();
      auto r = it.create ? create_one(self, m.org, it.id, it.patch, m.now, false, ops)
                         : update_one(self, m.org, it.id, it.patch, m.now, false, ops);
      auto& o = out.items.emplace_back();
      o.index = it.index;
      if (!r) {
        o.error = to_problem(r.error());
        continue;
      }
      o.created = r->created;
      o.changed = ops.size() > before;
      o.old_email = std::move(r->old_email);
      o.old_external_id = std::move(r->old_external_id);
      o.email = std::move(r->email);
      o.external_id = std::move(r->external_id);
      if (o.changed)
        ids.push_back(it.id);
    }
  }
  if (ops.empty())
    return out;
  return journal_write(self, std::move(ops), caf::make_message(std::move(out)), std::move(ids));
}

} // namespace shard_detail

} // namespace hotlead
