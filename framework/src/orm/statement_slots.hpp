// Placeholders of the statements a mapper compiles once and runs with many values (get() by
// key, UPDATE ... WHERE key, DELETE ... WHERE key IN (...)). Internal to the ORM.
#pragma once

#include <retort/sql/expression.hpp>

#include <string>

namespace retort::detail {

/// A placeholder whose type the column it meets decides. The statement is compiled once, with
/// this value standing in for every later one, so it must not carry a type of its own: a
/// dialect that casts typed parameters (PostgreSQL, SqlDialect::parameter_cast()) would cast a
/// stand-in integer to int4, and every later text key (42883) or key past 2^31 (22003) would
/// fail. Text is the one kind no dialect casts: the parameter then takes the column's type.
inline Expr column_typed_slot() { return Expr(Value(std::string())); }

} // namespace retort::detail
