// The bare client libraries doing each workload the fastest sensible way: the yardstick the
// Retort figures are divided by. sqlite3: prepared statements inside one transaction (row at a
// time, or multi-row VALUES). libpq: prepared statements, row at a time, multi-row VALUES or
// pipeline mode. Usage: bench_raw <workload> <backend> <variant> [n=] [small_n=] [path=] [url=]
#include "common.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using bench::Args;
using bench::chunk;
using bench::Customer;
using bench::Report;

namespace {

// ---------------------------------------------------------------------------------------------
// SQLite

class Lite {
public:
  explicit Lite(const Args& args) {
    const std::string name = args.backend == "sqlite_file" ? args.path : ":memory:";
    if (args.backend == "sqlite_file")
      for (const char* suffix : {"", "-wal", "-shm"})
        std::remove((name + suffix).c_str());
    // NOMUTEX as the plugin opens its connections: one thread uses the handle, so SQLite's own
    // locking (a mutex pair per API call) is left out on both sides.
    if (sqlite3_open_v2(name.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
      fail("open");
    // The same settings as the Retort program's URL and the plugin's defaults.
    exec("PRAGMA foreign_keys = ON");
    if (args.backend == "sqlite_file") {
      exec("PRAGMA journal_mode = wal");
      exec("PRAGMA synchronous = normal");
    }
    exec("CREATE TABLE customer (id INTEGER NOT NULL, name VARCHAR(255) NOT NULL, description "
         "VARCHAR(255) NOT NULL, q INTEGER NOT NULL, p INTEGER NOT NULL, PRIMARY KEY (id))");
  }
  ~Lite() { sqlite3_close_v2(db_); }
  Lite(const Lite&) = delete;
  Lite& operator=(const Lite&) = delete;

  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_));
  }
  void exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
  sqlite3* db() const { return db_; }

private:
  sqlite3* db_ = nullptr;
};

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

Stmt prepare(Lite& lite, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(lite.db(), sql.c_str(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    lite.fail(sql.c_str());
  return Stmt(s);
}

void step_done(Lite& lite, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) lite.fail("step");
  sqlite3_reset(s);
}

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

void bind_row(sqlite3_stmt* s, int first, const Customer& c) {
  bind_text(s, first, c.name);
  bind_text(s, first + 1, c.description);
  sqlite3_bind_int(s, first + 2, c.q);
  sqlite3_bind_int(s, first + 3, c.p);
}

Customer read_row(sqlite3_stmt* s) {
  auto text = [&](int i) {
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                       static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
  };
  return Customer{sqlite3_column_int(s, 0), text(1), text(2), sqlite3_column_int(s, 3),
                  sqlite3_column_int(s, 4)};
}

std::string values_sql(const char* head, int rows, int columns, const char* tail, bool numbered) {
  std::string sql = head;
  int n = 0;
  for (int r = 0; r < rows; ++r) {
    sql += r ? ", (" : " VALUES (";
    for (int c = 0; c < columns; ++c) {
      if (c) sql += ", ";
      // Appended piecewise: g++ 12 at -O2 warns (-Wrestrict, a false positive) on "$" + string.
      if (numbered) {
        sql += '$';
        sql += std::to_string(++n);
      } else {
        sql += '?';
      }
    }
    sql += ')';
  }
  return sql + tail;
}

void prefill(Lite& lite, std::int32_t n) {
  lite.exec("BEGIN");
  auto s =
      prepare(lite, "INSERT INTO customer (id, name, description, q, p) VALUES (?, ?, ?, ?, ?)");
  for (std::int32_t i = 1; i <= n; ++i) {
    Customer c = bench::make_customer(i, i);
    sqlite3_bind_int(s.get(), 1, c.id);
    bind_row(s.get(), 2, c);
    step_done(lite, s.get());
  }
  lite.exec("COMMIT");
}

std::uint64_t table_checksum(Lite& lite, std::int64_t& rows) {
  auto s = prepare(lite, "SELECT id, name, description, q, p FROM customer");
  std::uint64_t sum = 0;
  rows = 0;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    sum += bench::row_hash(read_row(s.get()));
    ++rows;
  }
  return sum;
}

std::vector<Customer> load_all(Lite& lite, const std::string& /*variant: one way only*/) {
  std::vector<Customer> out;
  auto s = prepare(lite, "SELECT id, name, description, q, p FROM customer");
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
    out.push_back(read_row(s.get()));
  if (rc != SQLITE_DONE) lite.fail("load");
  return out;
}

// Inserts `input`; with keys, writes the generated key into each row.
void insert(Lite& lite, std::vector<Customer>& input, const std::string& variant, bool keys) {
  const char* insert = "INSERT INTO customer (name, description, q, p)";
  lite.exec("BEGIN");
  if (variant == "rows") {
    auto s = prepare(lite, std::string(insert) + " VALUES (?, ?, ?, ?)");
    for (auto& c : input) {
      bind_row(s.get(), 1, c);
      step_done(lite, s.get());
      if (keys) c.id = static_cast<std::int32_t>(sqlite3_last_insert_rowid(lite.db()));
    }
  } else if (variant == "values") {
    const char* tail = keys ? " RETURNING id" : "";
    Stmt full;
    for (std::size_t at = 0; at < input.size(); at += chunk) {
      const int rows = static_cast<int>(std::min<std::size_t>(chunk, input.size() - at));
      Stmt partial;
      if (rows == chunk && !full) full = prepare(lite, values_sql(insert, rows, 4, tail, false));
      if (rows != chunk) partial = prepare(lite, values_sql(insert, rows, 4, tail, false));
      sqlite3_stmt* s = rows == chunk ? full.get() : partial.get();
      for (int r = 0; r < rows; ++r)
        bind_row(s, 4 * r + 1, input[at + static_cast<std::size_t>(r)]);
      std::size_t k = at;
      int rc;
      while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        input[k++].id = sqlite3_column_int(s, 0);
      if (rc != SQLITE_DONE || (keys && k != at + static_cast<std::size_t>(rows)))
        lite.fail("values");
      sqlite3_reset(s);
    }
  } else {
    throw std::runtime_error("unknown sqlite insert variant " + variant);
  }
  lite.exec("COMMIT");
}

// Reads the row of key select_key(k, n) for each k below small_n, a prepared statement reset
// between rows (no transaction: the raw program needs none).
void select_each(Lite& lite, const Args& a, std::vector<Customer>& got) {
  auto s = prepare(lite, "SELECT id, name, description, q, p FROM customer WHERE id = ?");
  for (std::int32_t k = 0; k < a.small_n; ++k) {
    sqlite3_bind_int(s.get(), 1, bench::select_key(k, a.n));
    if (sqlite3_step(s.get()) != SQLITE_ROW) lite.fail("get");
    got.push_back(read_row(s.get()));
    sqlite3_reset(s.get());
  }
}

// Inserts each row on its own: autocommit, or txn (BEGIN / INSERT / COMMIT).
void insert_each(Lite& lite, std::vector<Customer>& input, const std::string& variant) {
  auto s = prepare(lite, "INSERT INTO customer (name, description, q, p) VALUES (?, ?, ?, ?)");
  Stmt begin = prepare(lite, "BEGIN");
  Stmt commit = prepare(lite, "COMMIT");
  const bool txn = variant == "txn";
  for (auto& c : input) {
    if (txn) step_done(lite, begin.get());
    bind_row(s.get(), 1, c);
    step_done(lite, s.get());
    c.id = static_cast<std::int32_t>(sqlite3_last_insert_rowid(lite.db()));
    if (txn) step_done(lite, commit.get());
  }
}

// Keyset chunks of `chunk` rows, q += 1 each, a prepared UPDATE per row, one transaction.
void bulk_update(Lite& lite, const std::string& /*variant: rows only*/) {
  lite.exec("BEGIN");
  auto select = prepare(lite, "SELECT id, name, description, q, p FROM customer WHERE id > ? "
                              "ORDER BY id LIMIT ?");
  auto update = prepare(lite, "UPDATE customer SET q = ? WHERE id = ?");
  std::int32_t last = 0;
  std::vector<Customer> batch;
  for (;;) {
    batch.clear();
    sqlite3_bind_int(select.get(), 1, last);
    sqlite3_bind_int(select.get(), 2, chunk);
    while (sqlite3_step(select.get()) == SQLITE_ROW)
      batch.push_back(read_row(select.get()));
    sqlite3_reset(select.get());
    if (batch.empty()) break;
    for (auto& c : batch) {
      c.q += 1;
      sqlite3_bind_int(update.get(), 1, c.q);
      sqlite3_bind_int(update.get(), 2, c.id);
      step_done(lite, update.get());
    }
    last = batch.back().id;
  }
  lite.exec("COMMIT");
}

// core_update: a prepared UPDATE per (id, q), one transaction.
void core_update(Lite& lite, const std::vector<std::pair<std::int32_t, std::int32_t>>& input,
                 const std::string& /*variant: rows only*/) {
  lite.exec("BEGIN");
  auto update = prepare(lite, "UPDATE customer SET q = ? WHERE id = ?");
  for (const auto& [id, q] : input) {
    sqlite3_bind_int(update.get(), 1, q);
    sqlite3_bind_int(update.get(), 2, id);
    step_done(lite, update.get());
  }
  lite.exec("COMMIT");
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

class Pg {
public:
  explicit Pg(const Args& args) : conn_(PQconnectdb(args.url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) fail("connect");
    exec("SET client_min_messages = warning");
    exec("DROP TABLE IF EXISTS customer");
    exec("CREATE TABLE customer (id INTEGER GENERATED BY DEFAULT AS IDENTITY, name VARCHAR(255) "
         "NOT NULL, description VARCHAR(255) NOT NULL, q INTEGER NOT NULL, p INTEGER NOT NULL, "
         "PRIMARY KEY (id))");
  }
  ~Pg() { PQfinish(conn_); }
  Pg(const Pg&) = delete;
  Pg& operator=(const Pg&) = delete;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("libpq " + what + ": " + PQerrorMessage(conn_));
  }
  static bool ok(const PGresult* r) {
    const auto s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_SINGLE_TUPLE;
  }
  void exec(const std::string& sql) {
    PgResult r(PQexec(conn_, sql.c_str()));
    if (!ok(r.get())) fail(sql);
  }
  void prepare(const char* name, const std::string& sql, int params) {
    PgResult r(PQprepare(conn_, name, sql.c_str(), params, nullptr));
    if (!ok(r.get())) fail(sql);
  }
  PgResult run(const char* name, int count, const char* const* values) {
    PgResult r(PQexecPrepared(conn_, name, count, values, nullptr, nullptr, 0));
    if (!ok(r.get())) fail(name);
    return r;
  }
  PGconn* conn() const { return conn_; }

private:
  PGconn* conn_;
};

/// Text parameters for one or many rows, kept alive while libpq reads them.
class Params {
public:
  void clear() {
    numbers_.clear();
    values_.clear();
    kinds_.clear();
  }
  void add(const std::string& s) {
    values_.push_back(s.c_str());
    kinds_.push_back(-1);
  }
  void add(std::int32_t v) {
    std::array<char, 12> buf{};
    auto end = std::to_chars(buf.data(), buf.data() + buf.size() - 1, v).ptr;
    *end = '\0';
    numbers_.push_back(buf);
    values_.push_back(nullptr);
    kinds_.push_back(static_cast<int>(numbers_.size() - 1));
  }
  void add_row(const Customer& c) {
    add(c.name);
    add(c.description);
    add(c.q);
    add(c.p);
  }
  // numbers_ may reallocate while filling, so the pointers to its buffers are fixed up last.
  const char* const* values() {
    for (std::size_t i = 0; i < values_.size(); ++i)
      if (kinds_[i] >= 0) values_[i] = numbers_[static_cast<std::size_t>(kinds_[i])].data();
    return values_.data();
  }
  int count() const { return static_cast<int>(values_.size()); }

private:
  std::vector<std::array<char, 12>> numbers_;
  std::vector<const char*> values_;
  std::vector<int> kinds_;
};

std::int32_t pg_int(const PGresult* r, int row, int col) {
  return static_cast<std::int32_t>(std::atoi(PQgetvalue(r, row, col)));
}

Customer pg_row(const PGresult* r, int row) {
  auto text = [&](int col) {
    return std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
  };
  return Customer{pg_int(r, row, 0), text(1), text(2), pg_int(r, row, 3), pg_int(r, row, 4)};
}

void pg_append_rows(const PGresult* r, std::vector<Customer>& out) {
  const int n = PQntuples(r);
  for (int i = 0; i < n; ++i)
    out.push_back(pg_row(r, i));
}

// Sends every prepared `name` execution of `batch` in one pipeline segment, then reads them.
// `on_result` sees each statement's result in order.
template <typename Fill, typename OnResult>
void pg_pipeline(Pg& pg, const char* name, std::size_t count, Fill fill, OnResult on_result) {
  PGconn* conn = pg.conn();
  std::vector<Params> params(count);
  for (std::size_t i = 0; i < count; ++i) {
    fill(i, params[i]);
    if (!PQsendQueryPrepared(conn, name, params[i].count(), params[i].values(), nullptr, nullptr,
                             0))
      pg.fail("send");
  }
  if (!PQpipelineSync(conn)) pg.fail("sync");
  for (std::size_t i = 0; i < count; ++i) {
    PgResult r(PQgetResult(conn));
    if (!r || !Pg::ok(r.get())) pg.fail("pipelined statement");
    on_result(i, r.get());
    PgResult end(PQgetResult(conn));
    if (end) pg.fail("expected the end of a pipelined result");
  }
  PgResult sync(PQgetResult(conn));
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) pg.fail("pipeline sync");
}

void prefill(Pg& pg, std::int32_t n) {
  auto input = bench::make_input(n);
  pg.exec("BEGIN");
  pg.prepare("fill",
             values_sql("INSERT INTO customer (id, name, description, q, p)", chunk, 5, "", true),
             chunk * 5);
  Params params;
  for (std::int32_t at = 0; at < n; at += chunk) {
    params.clear();
    const std::int32_t rows = std::min(chunk, n - at);
    for (std::int32_t k = 0; k < rows; ++k) {
      params.add(at + k + 1);
      params.add_row(input[static_cast<std::size_t>(at + k)]);
    }
    if (rows == chunk) {
      pg.run("fill", params.count(), params.values());
    } else {
      PgResult r(PQexecParams(
          pg.conn(),
          values_sql("INSERT INTO customer (id, name, description, q, p)", rows, 5, "", true)
              .c_str(),
          params.count(), nullptr, params.values(), nullptr, nullptr, 0));
      if (!Pg::ok(r.get())) pg.fail("prefill");
    }
  }
  pg.exec("COMMIT");
  pg.exec("ANALYZE customer");
}

std::uint64_t table_checksum(Pg& pg, std::int64_t& rows) {
  PgResult r(PQexec(pg.conn(), "SELECT id, name, description, q, p FROM customer"));
  if (!Pg::ok(r.get())) pg.fail("checksum");
  std::uint64_t sum = 0;
  rows = PQntuples(r.get());
  for (int i = 0; i < rows; ++i)
    sum += bench::row_hash(pg_row(r.get(), i));
  return sum;
}

void insert(Pg& pg, std::vector<Customer>& input, const std::string& variant, bool keys) {
  const char* insert = "INSERT INTO customer (name, description, q, p)";
  const char* tail = keys ? " RETURNING id" : "";
  pg.exec("BEGIN");
  Params params;
  if (variant == "rows") {
    pg.prepare("ins", values_sql(insert, 1, 4, tail, true), 4);
    for (auto& c : input) {
      params.clear();
      params.add_row(c);
      auto r = pg.run("ins", params.count(), params.values());
      if (keys) c.id = pg_int(r.get(), 0, 0);
    }
  } else if (variant == "values") {
    bool prepared_full = false;
    for (std::size_t at = 0; at < input.size(); at += chunk) {
      const int rows = static_cast<int>(std::min<std::size_t>(chunk, input.size() - at));
      params.clear();
      for (int k = 0; k < rows; ++k)
        params.add_row(input[at + static_cast<std::size_t>(k)]);
      const char* name = rows == chunk ? "ins_full" : "ins_part";
      if (rows != chunk || !prepared_full) {
        pg.prepare(name, values_sql(insert, rows, 4, tail, true), rows * 4);
        prepared_full = prepared_full || rows == chunk;
      }
      auto r = pg.run(name, params.count(), params.values());
      if (keys) {
        if (PQntuples(r.get()) != rows) pg.fail("RETURNING row count");
        for (int k = 0; k < rows; ++k)
          input[at + static_cast<std::size_t>(k)].id = pg_int(r.get(), k, 0);
      }
    }
  } else if (variant == "pipeline") {
    pg.prepare("ins", values_sql(insert, 1, 4, tail, true), 4);
    if (!PQenterPipelineMode(pg.conn())) pg.fail("pipeline mode");
    for (std::size_t at = 0; at < input.size(); at += chunk) {
      const std::size_t rows = std::min<std::size_t>(chunk, input.size() - at);
      pg_pipeline(
          pg, "ins", rows, [&](std::size_t k, Params& p) { p.add_row(input[at + k]); },
          [&](std::size_t k, const PGresult* r) {
            if (keys) input[at + k].id = pg_int(r, 0, 0);
          });
    }
    if (!PQexitPipelineMode(pg.conn())) pg.fail("exit pipeline mode");
  } else {
    throw std::runtime_error("unknown postgresql insert variant " + variant);
  }
  pg.exec("COMMIT");
}

std::vector<Customer> load_all(Pg& pg, const std::string& variant) {
  std::vector<Customer> out;
  const char* sql = "SELECT id, name, description, q, p FROM customer";
  pg.prepare("all", sql, 0);
  if (variant == "singlerow") {
    if (!PQsendQueryPrepared(pg.conn(), "all", 0, nullptr, nullptr, nullptr, 0)) pg.fail("send");
    if (!PQsetSingleRowMode(pg.conn())) pg.fail("single-row mode");
    while (PgResult r{PQgetResult(pg.conn())}) {
      if (!Pg::ok(r.get())) pg.fail("load");
      pg_append_rows(r.get(), out);
    }
    return out;
  }
  auto r = pg.run("all", 0, nullptr);
  out.reserve(static_cast<std::size_t>(PQntuples(r.get())));
  pg_append_rows(r.get(), out);
  return out;
}

void bulk_update(Pg& pg, const std::string& variant) {
  pg.exec("BEGIN");
  pg.prepare("chunk",
             "SELECT id, name, description, q, p FROM customer WHERE id > $1 ORDER BY id LIMIT $2",
             2);
  pg.prepare("upd", "UPDATE customer SET q = $1 WHERE id = $2", 2);
  if (variant == "values") {
    std::string sql = "UPDATE customer SET q = v.q FROM (VALUES ";
    for (int k = 0; k < chunk; ++k)
      sql += (k ? ", ($" : "($") + std::to_string(2 * k + 1) + "::integer, $" +
             std::to_string(2 * k + 2) + "::integer)";
    pg.prepare("upd_values", sql + ") AS v (id, q) WHERE customer.id = v.id", 2 * chunk);
  }
  if (variant == "pipeline" && !PQenterPipelineMode(pg.conn())) pg.fail("pipeline mode");
  std::int32_t last = 0;
  std::vector<Customer> batch;
  Params params;
  for (;;) {
    batch.clear();
    params.clear();
    params.add(last);
    params.add(chunk);
    if (variant == "pipeline") {
      pg_pipeline(
          pg, "chunk", 1, [&](std::size_t, Params& p) { p = params; },
          [&](std::size_t, const PGresult* r) { pg_append_rows(r, batch); });
    } else {
      auto r = pg.run("chunk", params.count(), params.values());
      pg_append_rows(r.get(), batch);
    }
    if (batch.empty()) break;
    for (auto& c : batch)
      c.q += 1;
    if (variant == "rows") {
      for (const auto& c : batch) {
        params.clear();
        params.add(c.q);
        params.add(c.id);
        pg.run("upd", params.count(), params.values());
      }
    } else if (variant == "pipeline") {
      pg_pipeline(
          pg, "upd", batch.size(),
          [&](std::size_t k, Params& p) {
            p.add(batch[k].q);
            p.add(batch[k].id);
          },
          [](std::size_t, const PGresult*) {});
    } else if (variant == "values") {
      params.clear();
      for (const auto& c : batch) {
        params.add(c.id);
        params.add(c.q);
      }
      if (batch.size() != static_cast<std::size_t>(chunk)) {
        std::string sql = "UPDATE customer SET q = v.q FROM (VALUES ";
        for (std::size_t k = 0; k < batch.size(); ++k)
          sql += (k ? ", ($" : "($") + std::to_string(2 * k + 1) + "::integer, $" +
                 std::to_string(2 * k + 2) + "::integer)";
        pg.prepare("upd_part", sql + ") AS v (id, q) WHERE customer.id = v.id", params.count());
        pg.run("upd_part", params.count(), params.values());
      } else {
        pg.run("upd_values", params.count(), params.values());
      }
    } else {
      throw std::runtime_error("unknown bulk_update variant " + variant);
    }
    last = batch.back().id;
  }
  if (variant == "pipeline" && !PQexitPipelineMode(pg.conn())) pg.fail("exit pipeline mode");
  pg.exec("COMMIT");
}

// core_update: a prepared UPDATE per (id, q), one round trip each ("rows") or `chunk` per
// pipeline sync ("pipeline"), one transaction.
void core_update(Pg& pg, const std::vector<std::pair<std::int32_t, std::int32_t>>& input,
                 const std::string& variant) {
  pg.exec("BEGIN");
  pg.prepare("upd", "UPDATE customer SET q = $1 WHERE id = $2", 2);
  Params params;
  if (variant == "rows") {
    for (const auto& [id, q] : input) {
      params.clear();
      params.add(q);
      params.add(id);
      pg.run("upd", params.count(), params.values());
    }
  } else if (variant == "pipeline") {
    if (!PQenterPipelineMode(pg.conn())) pg.fail("pipeline mode");
    for (std::size_t at = 0; at < input.size(); at += chunk) {
      const std::size_t rows = std::min<std::size_t>(chunk, input.size() - at);
      pg_pipeline(
          pg, "upd", rows,
          [&](std::size_t k, Params& p) {
            p.add(input[at + k].second);
            p.add(input[at + k].first);
          },
          [](std::size_t, const PGresult*) {});
    }
    if (!PQexitPipelineMode(pg.conn())) pg.fail("exit pipeline mode");
  } else {
    throw std::runtime_error("unknown core_update variant " + variant);
  }
  pg.exec("COMMIT");
}

// Reads the row of key select_key(k, n) for each k below small_n, one prepared statement
// execution each (no transaction: the raw program needs none).
void select_each(Pg& pg, const Args& a, std::vector<Customer>& got) {
  Params params;
  pg.prepare("get", "SELECT id, name, description, q, p FROM customer WHERE id = $1", 1);
  for (std::int32_t k = 0; k < a.small_n; ++k) {
    params.clear();
    params.add(bench::select_key(k, a.n));
    auto res = pg.run("get", params.count(), params.values());
    if (PQntuples(res.get()) != 1) pg.fail("get: no row");
    got.push_back(pg_row(res.get(), 0));
  }
}

// Inserts each row on its own: autocommit, or txn (BEGIN / INSERT / COMMIT).
void insert_each(Pg& pg, std::vector<Customer>& input, const std::string& variant) {
  Params params;
  const bool txn = variant == "txn";
  pg.prepare("ins",
             "INSERT INTO customer (name, description, q, p) VALUES ($1, $2, $3, $4) RETURNING id",
             4);
  for (auto& c : input) {
    if (txn) pg.exec("BEGIN");
    params.clear();
    params.add_row(c);
    auto res = pg.run("ins", params.count(), params.values());
    c.id = pg_int(res.get(), 0, 0);
    if (txn) pg.exec("COMMIT");
  }
}

// ---------------------------------------------------------------------------------------------
// The workloads, the same steps for both libraries: what differs is in the overloads above.

template <typename Db> Report run_workload(Db& db, const Args& a) {
  Report r;
  bench::Stopwatch clock;
  const std::string& w = a.workload;
  if (w == "bulk_insert" || w == "core_insert") {
    auto input = bench::make_input(a.n);
    const bool keys = w == "bulk_insert";
    clock.time([&] { insert(db, input, a.variant, keys); });
    if (keys)
      for (const auto& c : input)
        r.objects += bench::row_hash(c);
    r.table = table_checksum(db, r.rows);
  } else if (w == "load_rows" || w == "core_select") {
    prefill(db, a.n);
    const std::size_t before = bench::heap_in_use();
    std::vector<Customer> rows;
    clock.time([&] { rows = load_all(db, a.variant); });
    bench::record_loaded(r, rows, before);
  } else if (w == "short_selects") {
    prefill(db, a.n);
    std::vector<Customer> got;
    got.reserve(static_cast<std::size_t>(a.small_n));
    clock.time([&] { select_each(db, a, got); });
    for (const auto& c : got)
      r.objects += bench::row_hash(c);
    r.rows = static_cast<std::int64_t>(got.size());
  } else if (w == "single_inserts") {
    auto input = bench::make_input(a.small_n);
    clock.time([&] { insert_each(db, input, a.variant); });
    for (const auto& c : input)
      r.objects += bench::row_hash(c);
    r.table = table_checksum(db, r.rows);
  } else if (w == "bulk_update") {
    prefill(db, a.n);
    clock.time([&] { bulk_update(db, a.variant); });
    r.table = table_checksum(db, r.rows);
  } else if (w == "core_update") {
    prefill(db, a.n);
    const auto input = bench::make_updates(a.n);
    clock.time([&] { core_update(db, input, a.variant); });
    r.table = table_checksum(db, r.rows);
  } else {
    throw std::runtime_error("unknown workload " + w);
  }
  r.seconds = clock.seconds();
  return r;
}

} // namespace

int main(int argc, char** argv) {
  try {
    const Args args = bench::parse_args(argc, argv);
    Report report;
    if (args.backend == "sqlite_file" || args.backend == "sqlite_memory") {
      Lite lite(args);
      report = run_workload(lite, args);
    } else if (args.backend == "postgresql") {
      Pg pg(args);
      report = run_workload(pg, args);
    } else {
      throw std::runtime_error("unknown backend " + args.backend);
    }
    report.print();
    if (args.backend == "sqlite_file")
      for (const char* suffix : {"", "-wal", "-shm"})
        std::remove((args.path + suffix).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_raw: %s\n", e.what());
    return 1;
  }
}
