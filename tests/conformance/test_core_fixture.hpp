// Shared pieces of the Core conformance cases: a MetaData of `core_` tables created fresh for
// one test case and dropped after it, and small readers over Results.
#pragma once

#include "backend.hpp"

#include <retort/sql/dialect.hpp>
#include <retort/sql/statement_cache.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace core_conf {

/// Tables of one test case: declare them on `md`, call create(), they are dropped at the end.
/// Declare it before any Connection, so that the connection is returned to the pool before
/// drop_all needs one (a :memory: engine has exactly one connection).
struct Schema {
  retort::MetaData md;

  void create() {
    // A previous run that crashed may have left the tables behind.
    retort::drop_all(conformance::engine(), md, true);
    retort::create_all(conformance::engine(), md, true);
  }
  Schema() = default;
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;
  ~Schema() {
    try {
      retort::drop_all(conformance::engine(), md, true);
    } catch (const std::exception& e) {
      WARN("drop_all failed: " << e.what());
    }
  }
};

/// The first column of every row as T.
template <typename T> std::vector<T> column_of(retort::Result result) {
  std::vector<T> out;
  for (const retort::Row& row : result)
    out.push_back(row.get<T>(0));
  return out;
}

/// The first column of every row of `statement` as T.
template <typename T, typename S>
std::vector<T> fetch(retort::Connection& conn, const S& statement) {
  return column_of<T>(conn.execute(statement));
}

/// Number of rows of `table`.
inline std::int64_t count_rows(retort::Connection& conn, const retort::Table& table) {
  return conn.execute(retort::select(retort::count()).select_from(table)).scalar<std::int64_t>();
}

} // namespace core_conf
