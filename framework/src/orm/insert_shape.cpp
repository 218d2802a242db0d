#include "insert_shape.hpp"

#include "flush_checks.hpp"

#include <retort/core/error.hpp>

#include <algorithm>
#include <utility>
#include <vector>

namespace retort::detail {

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

KeyHint& key_hint_of(const MapperBase& mapper) {
  // A program maps a bounded number of classes, and mappers live as long as the program.
  thread_local std::vector<std::pair<const MapperBase*, KeyHint>> hints;
  for (auto& [known, hint] : hints)
    if (known == &mapper) return hint;
  return hints.emplace_back(&mapper, KeyHint::unknown).second;
}

} // namespace retort::detail
