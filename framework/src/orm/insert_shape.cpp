#include "insert_shape.hpp"

#include "flush_checks.hpp"

#include <retort/core/error.hpp>

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

namespace retort::detail {

namespace {
// Shared by every thread: an async session's plans run on whichever worker thread holds its
// connection, so a per-thread hint would be probed again on each. A program maps a bounded
// number of classes, and mappers live as long as the program.
std::mutex key_hints_mutex;
std::vector<std::pair<const MapperBase*, KeyHint>> key_hints;
} // namespace

InsertShape make_insert_shape(const MapperBase& mapper, const SqlDialect& dialect,
                              std::uint64_t omitted, bool self_referential) {
  InsertShape shape;
  shape.mapper = &mapper;
  shape.dialect = &dialect;
  shape.omitted = omitted;
  const auto generated = mapper.autoincrement_column();
  for (std::size_t i = 0; i < mapper.columns().size(); ++i) {
    if (omitted & (1ull << i))
      shape.returned.push_back(i);
    else
      shape.inserted.push_back(i);
  }
  const bool key_only =
      shape.returned.empty() || (shape.returned.size() == 1 && generated == shape.returned.front());
  // A generated integer key alone can come from the driver instead of RETURNING.
  shape.use_last_id = dialect.prefers_last_insert_id() && !shape.returned.empty() && key_only;
  if (!shape.returned.empty() && !shape.use_last_id && !dialect.supports_returning())
    throw NotSupportedError("the dialect cannot return generated keys (no RETURNING)", "", 0, "");
  // Several rows per statement when the key is all that comes back (in VALUES order, see
  // finish_insert()); anything else goes row by row.
  if (key_only && !self_referential && dialect.supports_multi_values_insert() &&
      !shape.inserted.empty())
    shape.limit =
        std::min(max_rows_per_insert,
                 dialect.max_bound_parameters() / std::max<std::size_t>(1, shape.inserted.size()));
  shape.written = shape.inserted.mask();
  shape.required = required_columns(mapper, omitted);
  shape.nan_checked = dialect.stores_nan() ? 0 : floating_columns(mapper) & shape.written;
  return shape;
}

[[gnu::noinline]] InsertShape& insert_shape_of(const MapperBase& mapper, const SqlDialect& dialect,
                                               std::uint64_t omitted, bool self_referential) {
  thread_local InsertShape last;
  if (last.mapper != &mapper || last.dialect != &dialect || last.omitted != omitted)
    last = make_insert_shape(mapper, dialect, omitted, self_referential);
  return last;
}

KeyHint key_hint_of(const MapperBase& mapper) {
  std::lock_guard lock(key_hints_mutex);
  for (const auto& [known, hint] : key_hints)
    if (known == &mapper) return hint;
  return KeyHint::unknown;
}

void set_key_hint(const MapperBase& mapper, KeyHint hint) {
  std::lock_guard lock(key_hints_mutex);
  for (auto& [known, old] : key_hints)
    if (known == &mapper) {
      old = hint;
      return;
    }
  key_hints.emplace_back(&mapper, hint);
}

} // namespace retort::detail
