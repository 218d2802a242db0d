// Retort doing each workload through the ORM (Session) or the Core, timed the same way as
// bench_raw. Usage: bench_retort <workload> <backend> [variant] [n=] [small_n=] [path=] [url=]
#include "async_workloads.hpp"
#include "common.hpp"
#include "customer_model.hpp"

#include <retort/orm.hpp>
#include <retort/plugin/create_engine.hpp>
#include <retort/sql/bindparam.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/insert.hpp>
#include <retort/sql/select.hpp>

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

using namespace retort;

std::string url_of(const Args& a) {
  if (a.backend == "sqlite_memory") return "sqlite:///:memory:";
  // WAL and synchronous=normal, as in bench_raw: otherwise every commit of single_inserts waits
  // for fsync and the disk, not the library, is measured.
  if (a.backend == "sqlite_file")
    return "sqlite:///" + a.path + "?journal_mode=wal&synchronous=normal";
  if (a.backend == "postgresql") return a.url;
  throw std::runtime_error("unknown backend " + a.backend);
}

const Table& customers() { return mapper_of<Customer>().schema_table(); }

const std::vector<std::string>& data_columns() {
  static const std::vector<std::string> names{"name", "description", "q", "p"};
  return names;
}

// Untimed: rows 1..n with explicit keys through the Core.
void prefill(const Engine& engine, std::int32_t n) {
  Connection conn = engine.connect();
  Transaction tx = conn.begin();
  for (std::int32_t at = 0; at < n; at += chunk) {
    std::vector<Value> flat;
    for (std::int32_t i = at + 1; i <= std::min(n, at + chunk); ++i) {
      Customer c = bench::make_customer(i, i);
      flat.emplace_back(c.id);
      flat.emplace_back(std::move(c.name));
      flat.emplace_back(std::move(c.description));
      flat.emplace_back(c.q);
      flat.emplace_back(c.p);
    }
    conn.execute(
        insert(customers()).columns({"id", "name", "description", "q", "p"}).rows(std::move(flat)));
  }
  tx.commit();
  if (engine.url().dialect == "postgresql") conn.execute_ddl("ANALYZE customer");
}

std::uint64_t table_checksum(const Engine& engine, std::int64_t& rows) {
  Connection conn = engine.connect();
  Result result = conn.execute_sql("SELECT id, name, description, q, p FROM customer");
  std::uint64_t sum = 0;
  rows = 0;
  for (const Row& row : result) {
    sum +=
        bench::row_hash(row.get<std::int64_t>(0), row.get<std::string>(1), row.get<std::string>(2),
                        row.get<std::int64_t>(3), row.get<std::int64_t>(4));
    ++rows;
  }
  return sum;
}

template <typename Objects> std::uint64_t objects_checksum(const Objects& objects) {
  std::uint64_t sum = 0;
  for (const auto& o : objects)
    sum += bench::row_hash(*o);
  return sum;
}

// The application holds all 100k objects. With change detection ("autodetect"), each flush
// compares every held persistent object with its snapshot: 4.95 M comparisons over 100 flushes.
// Bulk work turns it off (the README's advice, "explicit", also what a bare variant means).
// The "async" variant (async_workloads.cpp, a file of its own so that the coroutines do not
// change how the compiler inlines the blocking workloads here).
bool async_variant(const Args& a) {
  if (a.variant != "default" && a.variant != "async")
    throw std::runtime_error(a.workload + " variants: default or async");
  return a.variant == "async";
}

Report bulk_insert(const Engine& engine, const Args& a) {
  Report r;
  auto input = bench::make_input(a.n);
  std::vector<std::shared_ptr<Customer>> objects;
  objects.reserve(input.size());
  bench::Stopwatch clock;
  if (a.variant != "default" && a.variant != "explicit" && a.variant != "autodetect")
    throw std::runtime_error("bulk_insert variants: explicit (the default) or autodetect");
  Session session(engine, SessionOptions{.autodetect_changes = a.variant == "autodetect"});
  clock.time([&] {
    for (std::size_t at = 0; at < input.size(); at += chunk) {
      const std::size_t end = std::min(input.size(), at + chunk);
      for (std::size_t i = at; i < end; ++i)
        objects.push_back(session.add(std::move(input[i])));
      session.flush();
    }
    session.commit();
  });
  r.seconds = clock.seconds();
  r.statements = session.statements_executed();
  r.objects = objects_checksum(objects);
  r.table = table_checksum(engine, r.rows);
  return r;
}

Report load_rows(const Engine& engine, const Args& a) {
  prefill(engine, a.n);
  Report r;
  bench::Stopwatch clock;
  Session session(engine);
  const std::size_t before = bench::heap_in_use();
  std::vector<std::shared_ptr<Customer>> objects;
  clock.time([&] { objects = session.query<Customer>().all(); });
  bench::record_loaded(r, objects, before);
  r.seconds = clock.seconds();
  r.statements = session.statements_executed();
  return r;
}

Report short_selects(const Engine& engine, const Args& a) {
  prefill(engine, a.n);
  Report r;
  std::vector<std::shared_ptr<Customer>> got;
  got.reserve(static_cast<std::size_t>(a.small_n));
  bench::Stopwatch clock;
  if (async_variant(a)) {
    clock.time([&] { bench::async_short_selects(engine, a, got); });
  } else {
    clock.time([&] {
      for (std::int32_t k = 0; k < a.small_n; ++k) {
        Session session(engine);
        auto c = session.get<Customer>(bench::select_key(k, a.n));
        if (!c) throw std::runtime_error("get: no row");
        got.push_back(std::move(c));
        r.statements += session.statements_executed();
      }
    });
  }
  r.seconds = clock.seconds();
  r.rows = static_cast<std::int64_t>(got.size());
  r.objects = objects_checksum(got);
  return r;
}

Report single_inserts(const Engine& engine, const Args& a) {
  Report r;
  auto input = bench::make_input(a.small_n);
  std::vector<std::shared_ptr<Customer>> objects;
  objects.reserve(input.size());
  bench::Stopwatch clock;
  if (async_variant(a)) {
    clock.time([&] { bench::async_single_inserts(engine, input, objects); });
  } else {
    clock.time([&] {
      for (auto& c : input) {
        Session session(engine);
        objects.push_back(session.add(std::move(c)));
        session.commit();
        r.statements += session.statements_executed();
      }
    });
  }
  r.seconds = clock.seconds();
  r.objects = objects_checksum(objects);
  r.table = table_checksum(engine, r.rows);
  return r;
}

Report bulk_update(const Engine& engine, const Args& a) {
  prefill(engine, a.n);
  Report r;
  bench::Stopwatch clock;
  if (async_variant(a)) {
    clock.time([&] { bench::async_bulk_update(engine); });
  } else {
    Session session(engine);
    clock.time([&] {
      std::int32_t last = 0;
      for (;;) {
        auto batch = session.query<Customer>()
                         .filter(col(&Customer::id) > last)
                         .order_by(col(&Customer::id))
                         .limit(chunk)
                         .all();
        if (batch.empty()) break;
        for (auto& c : batch)
          c->q += 1;
        session.flush();
        last = batch.back()->id;
      }
      session.commit();
    });
    r.statements = session.statements_executed();
  }
  r.seconds = clock.seconds();
  r.table = table_checksum(engine, r.rows);
  return r;
}

Report core_insert(const Engine& engine, const Args& a) {
  Report r;
  auto input = bench::make_input(a.n);
  bench::Stopwatch clock;
  clock.time([&] {
    {
      // Scoped: a :memory: engine has one connection, which table_checksum() needs back.
      Connection conn = engine.connect();
      Transaction tx = conn.begin();
      for (std::size_t at = 0; at < input.size(); at += chunk) {
        const std::size_t end = std::min(input.size(), at + chunk);
        std::vector<Value> flat;
        flat.reserve((end - at) * 4);
        // Borrowed, as the raw program binds them (SQLITE_STATIC): the input outlives each
        // statement, so no string is copied or freed.
        for (std::size_t i = at; i < end; ++i) {
          flat.push_back(Value::borrowed(input[i].name));
          flat.push_back(Value::borrowed(input[i].description));
          flat.emplace_back(input[i].q);
          flat.emplace_back(input[i].p);
        }
        conn.execute(insert(customers()).columns(data_columns()).rows(std::move(flat)));
      }
      tx.commit();
    }
  });
  r.seconds = clock.seconds();
  r.table = table_checksum(engine, r.rows);
  return r;
}

// q = 10 i + 1 for every row i, one UPDATE through the Core with a parameter set per row
// (executemany), or ("per_row") a statement built and executed per row, as without it.
Report core_update(const Engine& engine, const Args& a) {
  prefill(engine, a.n);
  Report r;
  const auto input = bench::make_updates(a.n);
  if (a.variant != "default" && a.variant != "per_row")
    throw std::runtime_error("core_update variants: default or per_row");
  const Table& t = customers();
  bench::Stopwatch clock;
  clock.time([&] {
    Connection conn = engine.connect();
    if (a.variant == "per_row") {
      Transaction tx = conn.begin();
      for (const auto& [id, q] : input)
        conn.execute(update(t).set("q", q).where(t.c("id") == id)).close();
      tx.commit();
      return;
    }
    ParameterSets sets({"id", "q"});
    sets.reserve(input.size());
    for (const auto& [id, q] : input)
      sets.add({id, q});
    conn.execute(update(t).set("q", bindparam("q")).where(t.c("id") == bindparam("id")), sets);
  });
  r.seconds = clock.seconds();
  r.table = table_checksum(engine, r.rows);
  return r;
}

Report core_select(const Engine& engine, const Args& a) {
  prefill(engine, a.n);
  Report r;
  bench::Stopwatch clock;
  std::vector<Customer> rows;
  const std::size_t before = bench::heap_in_use();
  clock.time([&] {
    {
      Connection conn = engine.connect();
      Result result = conn.execute(select(customers()));
      for (const Row& row : result)
        rows.push_back(Customer{row.get<std::int32_t>(0), row.get<std::string>(1),
                                row.get<std::string>(2), row.get<std::int32_t>(3),
                                row.get<std::int32_t>(4)});
    }
  });
  bench::record_loaded(r, rows, before);
  r.seconds = clock.seconds();
  return r;
}

Report run(const Args& a) {
  Engine engine = create_engine(url_of(a));
  // Untimed: the plugin is loaded and the pool holds an open connection before the clock starts.
  metadata().drop_all(engine);
  metadata().create_all(engine);
  const std::string& w = a.workload;
  if (w == "bulk_insert") return bulk_insert(engine, a);
  if (w == "load_rows") return load_rows(engine, a);
  if (w == "short_selects") return short_selects(engine, a);
  if (w == "single_inserts") return single_inserts(engine, a);
  if (w == "bulk_update") return bulk_update(engine, a);
  if (w == "core_insert") return core_insert(engine, a);
  if (w == "core_select") return core_select(engine, a);
  if (w == "core_update") return core_update(engine, a);
  throw std::runtime_error("unknown workload " + w);
}

} // namespace

int main(int argc, char** argv) {
  try {
    const Args args = bench::parse_args(argc, argv);
    if (args.backend == "sqlite_file")
      for (const char* suffix : {"", "-wal", "-shm"})
        std::remove((args.path + suffix).c_str());
    run(args).print();
    if (args.backend == "sqlite_file")
      for (const char* suffix : {"", "-wal", "-shm"})
        std::remove((args.path + suffix).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_retort: %s\n", e.what());
    return 1;
  }
}
