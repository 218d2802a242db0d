// Any statement the compiler accepts, as one type for code that passes statements around
// (the engine's execute(), the ORM's plans).
#pragma once

#include <retort/sql/delete.hpp>
#include <retort/sql/insert.hpp>
#include <retort/sql/select.hpp>
#include <retort/sql/text.hpp>
#include <retort/sql/update.hpp>

#include <variant>

namespace retort {

/// One of the statement types of the sql layer.
using Statement = std::variant<Select, CompoundSelect, Insert, Update, Delete, TextClause>;

} // namespace retort
