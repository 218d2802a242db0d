#include "flush_checks.hpp"

#include <retort/core/error.hpp>

#include <bit>
#include <cmath>
#include <string>

namespace retort::detail {

// The NOT NULL columns without a default that a statement omitting `omitted` writes, of those
// whose member can hold NULL at all: worked out once per statement shape, so that each row
// checks only those (none, for a class of numbers and strings).
std::uint64_t required_columns(const MapperBase& mapper, std::uint64_t omitted) {
  std::uint64_t required = 0;
  for (std::size_t i = 0; i < mapper.columns().size(); ++i)
    if (!(omitted & (1ull << i)) && mapper.column_required(i)) required |= 1ull << i;
  return required & mapper.nullable_members();
}

// The floating-point columns of `mapper`, as a bit per column.
std::uint64_t floating_columns(const MapperBase& mapper) {
  std::uint64_t mask = 0;
  for (std::size_t i = 0; i < mapper.columns().size(); ++i)
    if (mapper.columns()[i].type.kind == TypeKind::floating) mask |= 1ull << i;
  return mask;
}

// A NaN in one of `columns` of `state`'s object would be stored as NULL (SQLite): read back, an
// optional member would come back empty and a plain one fail. Refused before anything is sent.
void check_no_nan(const InstanceState& state, std::uint64_t columns) {
  const MapperBase& mapper = *state.mapper;
  for (std::uint64_t bits = columns; bits != 0; bits &= bits - 1) {
    const auto i = static_cast<std::size_t>(std::countr_zero(bits));
    const Value v = mapper.column_value(state.object, i);
    if (v.kind() != ValueKind::real || !std::isnan(v.as_double())) continue;
    throw DataError("column '" + mapper.table_name() + "." + mapper.columns()[i].name +
                        "' cannot store NaN on this database (it would be stored as NULL)",
                    "", 0, "");
  }
}

} // namespace retort::detail
