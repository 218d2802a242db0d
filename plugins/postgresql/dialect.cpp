// PostgreSQL's rendering rules.
#include "dialect.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

namespace retort::postgresql {

namespace {

// PostgreSQL's reserved key words, including those that may only be function or type names
// (PostgreSQL 15 documentation, appendix C). Sorted for binary search.
constexpr std::array<std::string_view, 100> reserved_words = {"all",
                                                              "analyse",
                                                              "analyze",
                                                              "and",
                                                              "any",
                                                              "array",
                                                              "as",
                                                              "asc",
                                                              "asymmetric",
                                                              "authorization",
                                                              "binary",
                                                              "both",
                                                              "case",
                                                              "cast",
                                                              "check",
                                                              "collate",
                                                              "collation",
                                                              "column",
                                                              "concurrently",
                                                              "constraint",
                                                              "create",
                                                              "cross",
                                                              "current_catalog",
                                                              "current_date",
                                                              "current_role",
                                                              "current_schema",
                                                              "current_time",
                                                              "current_timestamp",
                                                              "current_user",
                                                              "default",
                                                              "deferrable",
                                                              "desc",
                                                              "distinct",
                                                              "do",
                                                              "else",
                                                              "end",
                                                              "except",
                                                              "false",
                                                              "fetch",
                                                              "for",
                                                              "foreign",
                                                              "freeze",
                                                              "from",
                                                              "full",
                                                              "grant",
                                                              "group",
                                                              "having",
                                                              "ilike",
                                                              "in",
                                                              "initially",
                                                              "inner",
                                                              "intersect",
                                                              "into",
                                                              "is",
                                                              "isnull",
                                                              "join",
                                                              "lateral",
                                                              "leading",
                                                              "left",
                                                              "like",
                                                              "limit",
                                                              "localtime",
                                                              "localtimestamp",
                                                              "natural",
                                                              "not",
                                                              "notnull",
                                                              "null",
                                                              "offset",
                                                              "on",
                                                              "only",
                                                              "or",
                                                              "order",
                                                              "outer",
                                                              "overlaps",
                                                              "placing",
                                                              "primary",
                                                              "references",
                                                              "returning",
                                                              "right",
                                                              "select",
                                                              "session_user",
                                                              "similar",
                                                              "some",
                                                              "symmetric",
                                                              "table",
                                                              "tablesample",
                                                              "then",
                                                              "to",
                                                              "trailing",
                                                              "true",
                                                              "union",
                                                              "unique",
                                                              "user",
                                                              "using",
                                                              "variadic",
                                                              "verbose",
                                                              "when",
                                                              "where",
                                                              "window",
                                                              "with"};

} // namespace

void PgDialect::quote_identifier(std::string& out, std::string_view identifier) const {
  if (std::binary_search(reserved_words.begin(), reserved_words.end(), identifier)) {
    out += '"';
    out += identifier;
    out += '"';
    return;
  }
  SqlDialect::quote_identifier(out, identifier);
}

void PgDialect::render_placeholder(std::string& out, std::size_t position) const {
  out += '$';
  out += std::to_string(position);
}

// PostgreSQL infers a parameter's type from the SQL around it, and falls back to "unknown"
// (text-like) where nothing says: `$1 + 1` is then ambiguous (42725), CASE branches and
// recursive CTE terms become text, `pages * $1` becomes an integer and rejects 1.5. So numbers,
// booleans and bytes say what they are, as the same literal written in SQL would: an integer
// is int4 when it fits (so that integer-taking functions such as substr() accept it) and int8
// otherwise, a real float8. Text and NULL stay unknown: text also carries dates, times,
// numerics and whatever else the column it meets decides.
std::string_view PgDialect::parameter_cast(const Value& value) const {
  switch (value.kind()) {
  case ValueKind::integer: {
    const std::int64_t v = value.as_int();
    return v >= std::numeric_limits<std::int32_t>::min() &&
                   v <= std::numeric_limits<std::int32_t>::max()
               ? "::int4"
               : "::int8";
  }
  case ValueKind::real: return "::float8";
  case ValueKind::boolean: return "::bool";
  case ValueKind::blob: return "::bytea";
  case ValueKind::text:
  case ValueKind::null: return {};
  }
  return {};
}

std::string PgDialect::type_name(const SqlType& type) const {
  // PostgreSQL has no BLOB: binary data is BYTEA. Every other kind has the standard name.
  if (type.kind == TypeKind::large_binary) return "BYTEA";
  return SqlDialect::type_name(type);
}

std::string PgDialect::autoincrement_type(const SqlType& type) const {
  const char* base = type.kind == TypeKind::big_integer     ? "BIGINT"
                     : type.kind == TypeKind::small_integer ? "SMALLINT"
                                                            : "INTEGER";
  return std::string(base) + " GENERATED BY DEFAULT AS IDENTITY";
}

// pg_catalog rather than information_schema: it lists tables whatever the privileges on
// them, and partitioned and foreign tables, views and materialized views as well.
std::string PgDialect::has_table_sql() const {
  return "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
         "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = $1 "
         "AND c.relkind IN ('r', 'p', 'v', 'm', 'f')";
}

// X'..' is a bit string in PostgreSQL; bytes are written as a hex bytea literal instead.
void PgDialect::render_literal(std::string& out, const Value& value) const {
  if (value.kind() != ValueKind::blob) {
    SqlDialect::render_literal(out, value);
    return;
  }
  static constexpr char hex[] = "0123456789abcdef";
  out += "'\\x";
  for (std::byte b : value.as_blob()) {
    auto v = static_cast<unsigned>(b);
    out += hex[v >> 4];
    out += hex[v & 0xF];
  }
  out += "'::bytea";
}

} // namespace retort::postgresql
