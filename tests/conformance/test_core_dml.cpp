// Core conformance, DML: INSERT (one row, many rows, from SELECT, RETURNING), UPDATE and
// DELETE with WHERE / RETURNING / rows_affected, upserts, and values that look like SQL.
#include "test_core_fixture.hpp"

#include <algorithm>

using namespace retort;
using conformance::engine;
using core_conf::count_rows;
using core_conf::fetch;
using core_conf::Schema;

namespace {

Table users_table(MetaData& md) {
  return Table(md, "core_users", Column("id", Integer).primary_key(),
               Column("name", String(60)).not_null().unique(), Column("age", Integer),
               Column("visits", Integer).not_null().server_default("0"));
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("insert one row, many rows in one statement, and from a select", "[core][dml]") {
  Schema s;
  Table users = users_table(s.md);
  Table archive(s.md, "core_users_archive", Column("id", Integer).primary_key(),
                Column("name", String(60)));
  s.create();
  auto conn = engine().connect();

  auto one = conn.execute(insert(users).values({{"name", "ann"}, {"age", 30}}));
  CHECK(one.rows_affected() == 1);
  one.close();

  // Multi-row VALUES: one statement carries every row.
  auto many = insert(users).columns({"name", "age"}).rows({"bob", 20, "cy", Value(), "dee", 50});
  CompiledSql compiled = compile(many, engine().dialect());
  CHECK(occurrences(compiled.sql, "INSERT") == 1);
  CHECK(compiled.params.size() == 6);
  auto r = conn.execute(many);
  CHECK(r.rows_affected() == 3);
  r.close();
  // row() takes expressions, values() column/value pairs.
  conn.execute(insert(users).columns({"name", "age"}).row({"eve", cast(literal(40), Integer) + 1}));

  CHECK(fetch<std::string>(conn, select(users.c("name")).order_by(users.c("name"))) ==
        std::vector<std::string>{"ann", "bob", "cy", "dee", "eve"});
  CHECK(fetch<int>(conn, select(users.c("age")).where(users.c("name") == "eve")) ==
        std::vector<int>{41});
  // The self-numbering key counted 1..5 and the server default filled visits.
  CHECK(fetch<int>(conn, select(users.c("id")).order_by(users.c("id"))) ==
        std::vector<int>{1, 2, 3, 4, 5});
  CHECK(fetch<int>(conn, select(sum(users.c("visits")))) == std::vector<int>{0});

  auto copied = conn.execute(insert(archive).from_select(
      {"id", "name"}, select(users.c("id"), upper(users.c("name"))).where(users.c("age") >= 30)));
  CHECK(copied.rows_affected() == 3);
  copied.close();
  CHECK(fetch<std::string>(conn, select(archive.c("name")).order_by(archive.c("id"))) ==
        std::vector<std::string>{"ANN", "DEE", "EVE"});
}

TEST_CASE("INSERT ... RETURNING gives generated keys and defaults", "[core][dml][returning]") {
  if (!engine().dialect().supports_returning()) {
    WARN("dialect " << engine().dialect().name() << " has no RETURNING");
    return;
  }
  Schema s;
  Table users = users_table(s.md);
  s.create();
  auto conn = engine().connect();

  auto r = conn.execute(insert(users)
                            .values({{"name", "ann"}, {"age", 30}})
                            .returning(users.c("id"), users.c("visits")));
  REQUIRE(r.has_row());
  CHECK(r.row().get<std::int64_t>("id") == 1);
  CHECK(r.row().get<int>("visits") == 0);
  CHECK_FALSE(r.next());

  // Multi-row insert returns one row per inserted row.
  auto ids = fetch<std::int64_t>(conn, insert(users)
                                           .columns({"name", "age"})
                                           .rows({"bob", 1, "cy", 2, "dee", 3})
                                           .returning(users.c("id")));
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::int64_t>{2, 3, 4});

  // Expressions in RETURNING.
  CHECK(conn.execute(insert(users)
                         .values({{"name", "eve"}, {"age", 7}})
                         .returning((users.c("age") * 2).label("twice")))
            .scalar<int>() == 14);
}

TEST_CASE("update and delete with where, returning and rows_affected", "[core][dml]") {
  Schema s;
  Table users = users_table(s.md);
  s.create();
  auto conn = engine().connect();
  conn.execute(insert(users)
                   .columns({"name", "age"})
                   .rows({"ann", 30, "bob", 20, "cy", Value(), "dee", 50}));

  auto u = conn.execute(update(users)
                            .set("visits", users.c("visits") + 1)
                            .set("age", users.c("age") + 1)
                            .where(users.c("age") >= 30));
  CHECK(u.rows_affected() == 2);
  u.close();
  CHECK(fetch<int>(conn, select(users.c("age")).where(users.c("name") == "dee")) ==
        std::vector<int>{51});
  CHECK(fetch<int>(conn, select(users.c("visits")).order_by(users.c("name"))) ==
        std::vector<int>{1, 0, 0, 1});

  // No row matches: zero affected, nothing changed.
  auto none = conn.execute(update(users).values({{"age", 0}}).where(users.c("name") == "zed"));
  CHECK(none.rows_affected() == 0);
  none.close();
  // Setting NULL with null() and with an empty optional.
  conn.execute(update(users).set("age", null()).where(users.c("name") == "ann"));
  conn.execute(update(users).set("age", std::optional<int>()).where(users.c("name") == "bob"));
  CHECK(count_rows(conn, users) == 4);
  CHECK(conn.execute(select(count()).select_from(users).where(users.c("age").is_null()))
            .scalar<std::int64_t>() == 3);

  if (engine().dialect().supports_returning()) {
    auto names = fetch<std::string>(
        conn,
        update(users).set("age", 99).where(users.c("age").is_null()).returning(users.c("name")));
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"ann", "bob", "cy"});

    auto gone = fetch<std::string>(
        conn, delete_(users).where(users.c("name") == "cy").returning(users.c("name")));
    CHECK(gone == std::vector<std::string>{"cy"});
  } else {
    conn.execute(delete_(users).where(users.c("name") == "cy"));
  }

  auto d = conn.execute(delete_(users).where(users.c("age") > 90));
  CHECK(d.rows_affected() == 2);
  d.close();
  CHECK(fetch<std::string>(conn, select(users.c("name"))) == std::vector<std::string>{"dee"});
  auto all = conn.execute(delete_(users));
  CHECK(all.rows_affected() == 1);
  all.close();
  CHECK(count_rows(conn, users) == 0);
}

TEST_CASE("upsert: ON CONFLICT DO NOTHING and DO UPDATE with excluded()", "[core][dml][upsert]") {
  if (!engine().dialect().supports_on_conflict()) {
    WARN("dialect " << engine().dialect().name() << " has no ON CONFLICT");
    return;
  }
  Schema s;
  Table counters(s.md, "core_counters", Column("name", String(30)).primary_key(),
                 Column("hits", Integer).not_null(), Column("note", String(30)));
  s.create();
  auto conn = engine().connect();
  conn.execute(insert(counters).values({{"name", "a"}, {"hits", 1}, {"note", "first"}}));

  auto ignored = conn.execute(insert(counters)
                                  .values({{"name", "a"}, {"hits", 100}, {"note", "ignored"}})
                                  .on_conflict_do_nothing({"name"}));
  CHECK(ignored.rows_affected() == 0);
  ignored.close();
  // Without a conflict target too.
  conn.execute(insert(counters)
                   .values({{"name", "a"}, {"hits", 100}, {"note", "ignored"}})
                   .on_conflict_do_nothing());
  CHECK(fetch<int>(conn, select(counters.c("hits"))) == std::vector<int>{1});

  auto bump = insert(counters)
                  .columns({"name", "hits", "note"})
                  .rows({"a", 5, "second", "b", 7, "new"})
                  .on_conflict_do_update({"name"}, {{"hits", counters.c("hits") + excluded("hits")},
                                                    {"note", excluded("note")}});
  conn.execute(bump);
  auto r = conn.execute(select(counters.c("name"), counters.c("hits"), counters.c("note"))
                            .order_by(counters.c("name")));
  REQUIRE(r.has_row());
  CHECK(r.row().get<int>("hits") == 6);
  CHECK(r.row().get<std::string>("note") == "second");
  REQUIRE(r.next());
  CHECK(r.row().get<std::string>("name") == "b");
  CHECK(r.row().get<int>("hits") == 7);
  r.close();

  // DO UPDATE ... WHERE: the update is skipped when the condition is false.
  conn.execute(insert(counters)
                   .values({{"name", "b"}, {"hits", 1000}, {"note", "skipped"}})
                   .on_conflict_do_update({"name"}, {{"hits", excluded("hits")}},
                                          counters.c("hits") > 1000));
  CHECK(fetch<int>(conn, select(counters.c("hits")).where(counters.c("name") == "b")) ==
        std::vector<int>{7});
}

TEST_CASE("a value that looks like SQL is stored verbatim", "[core][dml][security]") {
  Schema s;
  Table users = users_table(s.md);
  s.create();
  auto conn = engine().connect();
  const std::string evil = "x'); DROP TABLE core_users; --";
  const std::string evil2 = "Robert\"; DELETE FROM core_users WHERE ''='";
  conn.execute(insert(users).values({{"name", evil}, {"age", 1}}));
  conn.execute(insert(users).values({{"name", evil2}, {"age", 2}}));
  conn.execute(text("INSERT INTO core_users (name, age) VALUES (:n, 3)").bind("n", evil + "!"));

  CHECK(count_rows(conn, users) == 3);
  CHECK(fetch<std::string>(conn, select(users.c("name")).order_by(users.c("age"))) ==
        std::vector<std::string>{evil, evil2, evil + "!"});
  CHECK(fetch<int>(conn, select(users.c("age")).where(users.c("name") == evil)) ==
        std::vector<int>{1});
  CHECK(fetch<int>(conn, select(users.c("age"))
                             .where(users.c("name").like("%DROP TABLE%"))
                             .order_by(users.c("age"))) == std::vector<int>{1, 3});
}

TEST_CASE("borrowed text binds as text: inserts, RETURNING, filters and empty strings",
          "[core][dml][borrowed]") {
  Schema s;
  Table users = users_table(s.md);
  s.create();
  auto conn = engine().connect();
  // Long enough to live on the heap, so a late read of freed text would show (ASan).
  std::vector<std::string> names{std::string(40, 'a'), std::string(40, 'b'), ""};
  std::vector<Value> rows;
  for (std::size_t i = 0; i < names.size(); ++i) {
    rows.push_back(Value::borrowed(names[i]));
    rows.emplace_back(static_cast<int>(i));
  }
  auto many = insert(users).columns({"name", "age"}).rows(std::move(rows));
  if (engine().dialect().supports_returning()) {
    many = std::move(many).returning(users.c("name"));
    Result result = conn.execute(many);
    for (auto& name : names) // the statement has run: what it read may change now
      name.assign(100, '#');
    std::vector<std::string> returned;
    for (const Row& row : result)
      returned.push_back(row.get<std::string>(0));
    std::sort(returned.begin(), returned.end());
    CHECK(returned == std::vector<std::string>{"", std::string(40, 'a'), std::string(40, 'b')});
  } else {
    conn.execute(many).close();
  }
  // The empty borrowed string is '', not NULL; a borrowed filter value finds its row.
  CHECK(count_rows(conn, users) == 3);
  CHECK(fetch<int>(conn, select(users.c("age")).where(users.c("name") == Value::borrowed(""))) ==
        std::vector<int>{2});
  const std::string wanted(40, 'b');
  CHECK(
      fetch<int>(conn, select(users.c("age")).where(users.c("name") == Value::borrowed(wanted))) ==
      std::vector<int>{1});
}
