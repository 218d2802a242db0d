// libFuzzer target: the SQL compiler fed random expression trees (columns, bound values of every
// kind, arithmetic, comparison, logic, LIKE, IN, BETWEEN, CASE, CAST, functions, ORDER BY,
// LIMIT). On the SQLite and the PostgreSQL dialect each statement compiles or throws a typed
// retort::Error; what compiles for SQLite, SQLite itself must prepare, with exactly as many
// parameters as the compiler bound, and run to its end.
#include <retort/core/error.hpp>
#include <retort/schema/table.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/select.hpp>

#include "../../plugins/postgresql/dialect.hpp"
#include "../../plugins/sqlite/dialect.hpp"

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace retort;

namespace {

// The input, read a byte at a time; past its end every byte is 0 (a leaf).
struct Input {
  const std::uint8_t* data;
  std::size_t size;
  std::uint8_t next() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
};

const Table& table() {
  static const Table t("t", Column("a", Integer), Column("b", String(20)), Column("c", Float));
  return t;
}

Value value_of(Input& in) {
  const std::uint8_t kind = in.next();
  const std::uint8_t x = in.next();
  switch (kind % 6) {
  case 0: return Value(std::int64_t(x) - 128);
  case 1: return Value(double(x) / 7.0);
  case 2: return Value(std::string(x % 5, char('a' + x % 26)));
  case 3: return Value(x % 2 == 0);
  case 4: return Value();
  default: return Value(std::int64_t(x) << 40); // past 32 bits
  }
}

Expr expr_of(Input& in, int depth) {
  const std::uint8_t op = in.next();
  // Deep enough: leaves only (a column or a value).
  const unsigned choice = depth > 5 ? op % 4 : op % 26;
  auto sub = [&] { return expr_of(in, depth + 1); };
  switch (choice) {
  case 0: return table().c("a");
  case 1: return table().c("b");
  case 2: return table().c("c");
  case 3: return literal(value_of(in));
  case 4: return sub() + sub();
  case 5: return sub() - sub();
  case 6: return sub() * sub();
  case 7: return sub() / sub();
  case 8: return sub() == sub();
  case 9: return sub() < sub();
  case 10: return sub() >= sub();
  case 11: return sub() != sub();
  case 12: return sub() && sub();
  case 13: return sub() || sub();
  case 14: return !sub();
  case 15: return -sub();
  case 16: return sub().is_null();
  case 17: return sub().like(sub());
  case 18: return sub().ilike(sub());
  case 19: return sub().concat(sub());
  case 20: return sub().in_({sub(), sub()});
  case 21: return sub().between(sub(), sub());
  case 22: return case_({{sub(), sub()}}, sub());
  case 23: return cast(sub(), op % 2 ? Integer : Text);
  case 24: return coalesce(sub(), sub());
  default: return lower(sub());
  }
}

// SQLite's verdict on `compiled`: it must prepare, bind every parameter and run.
void run_on_sqlite(sqlite3* db, const CompiledSql& compiled) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, compiled.sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "SQLite refused: %s\n%s\n", sqlite3_errmsg(db), compiled.sql.c_str());
    std::abort();
  }
  if (std::size_t(sqlite3_bind_parameter_count(stmt)) != compiled.params.size()) std::abort();
  for (std::size_t i = 0; i < compiled.params.size(); ++i) {
    const Value& v = compiled.params[i];
    const int at = int(i) + 1;
    switch (v.kind()) {
    case ValueKind::null: sqlite3_bind_null(stmt, at); break;
    case ValueKind::integer: sqlite3_bind_int64(stmt, at, v.as_int()); break;
    case ValueKind::real: sqlite3_bind_double(stmt, at, v.as_double()); break;
    case ValueKind::boolean: sqlite3_bind_int(stmt, at, v.as_bool() ? 1 : 0); break;
    case ValueKind::text:
      sqlite3_bind_text(stmt, at, v.as_text().data(), int(v.as_text().size()), SQLITE_TRANSIENT);
      break;
    case ValueKind::blob: sqlite3_bind_zeroblob(stmt, at, 0); break;
    }
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  sqlite3_finalize(stmt);
  // A run-time error (an integer overflow in sum(), say) is SQLite's to report, not a finding.
  (void)rc;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const sqlite::SqliteDialect sqlite_dialect;
  static const postgresql::PgDialect pg_dialect;
  static sqlite3* db = [] {
    sqlite3* handle = nullptr;
    sqlite3_open(":memory:", &handle);
    sqlite3_exec(handle,
                 "CREATE TABLE t(a INTEGER, b VARCHAR(20), c FLOAT);"
                 "INSERT INTO t VALUES (1, 'ab', 1.5), (NULL, NULL, NULL), (-3, 'x', 0.0)",
                 nullptr, nullptr, nullptr);
    return handle;
  }();
  Input in{data, size};
  Select query = select(table().c("a"), expr_of(in, 0)).where(expr_of(in, 0));
  if (in.next() % 2) query = std::move(query).order_by(expr_of(in, 0));
  if (in.next() % 2) query = std::move(query).limit(in.next());
  try {
    (void)compile(query, pg_dialect);
  } catch (const Error&) {
  }
  CompiledSql compiled;
  try {
    compiled = compile(query, sqlite_dialect);
  } catch (const Error&) {
    return 0; // refused with a typed error: fine
  }
  run_on_sqlite(db, compiled);
  return 0;
}
