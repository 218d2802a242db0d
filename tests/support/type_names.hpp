// Every column type once, and the DDL names a dialect gives them: what the dialects' type-name
// tests compare, each against its own list.
#pragma once

#include <retort/core/types.hpp>
#include <retort/sql/dialect.hpp>

#include <string>
#include <vector>

namespace retort::test {

/// `dialect`'s DDL names of Integer, BigInteger, SmallInteger, String(50), String(), Text,
/// Float, Numeric(10, 2), Numeric(), Boolean, Date, DateTime, DateTimeTz, Time, LargeBinary.
inline std::vector<std::string> type_names(const SqlDialect& dialect) {
  const SqlType types[] = {Integer, BigInteger, SmallInteger,   String(50), String(),
                           Text,    Float,      Numeric(10, 2), Numeric(),  Boolean,
                           Date,    DateTime,   DateTimeTz,     Time,       LargeBinary};
  std::vector<std::string> names;
  for (const SqlType& type : types)
    names.push_back(dialect.type_name(type));
  return names;
}

} // namespace retort::test
