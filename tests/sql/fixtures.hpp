// The users / addresses schema of the cheatsheet, shared by the sql tests.
#pragma once

#include <retort/schema/ddl.hpp>
#include <retort/schema/metadata.hpp>
#include <retort/schema/table.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/statement_cache.hpp>

#include "test_dialects.hpp"

namespace fixtures {

using namespace retort;

inline const Table& users() {
  static const Table t("users", Column("id", Integer).primary_key(),
                       Column("name", String(50)).not_null(), Column("age", Integer),
                       Column("active", Boolean));
  return t;
}

inline const Table& addresses() {
  static const Table t("addresses", Column("id", Integer).primary_key(),
                       Column("email", String(100)).not_null(),
                       Column("user_id", Integer).references("users.id"));
  return t;
}

inline const test::SqliteLikeDialect& lite() {
  static const test::SqliteLikeDialect d;
  return d;
}

inline const test::PostgresLikeDialect& pg() {
  static const test::PostgresLikeDialect d;
  return d;
}

} // namespace fixtures
