// Text with an embedded NUL byte: SQLite keeps every byte; PostgreSQL text cannot hold NUL, so
// such a value is a DataError that names its column, raised before anything is sent; never a
// value silently cut at the NUL (which would also let "secret\0X" match a stored "secret").
#include "models.hpp"
#include "test_core_fixture.hpp"

using namespace retort;
using namespace std::string_literals;
using Catch::Matchers::Contains;
using conformance::engine;
using conformance::is_sqlite;
using core_conf::Schema;

namespace {

struct Notes {
  Schema s;
  Table t{s.md, "core_notes", Column("id", Integer).primary_key(), Column("body", Text)};
  Connection conn;

  Notes() : conn(open()) {}
  ~Notes() { conn.close(); }
  Connection open() {
    s.create();
    return engine().connect();
  }
  std::int64_t rows() { return core_conf::count_rows(conn, t); }
};

} // namespace

TEST_CASE("text with a NUL byte: kept whole, or refused naming its column", "[core][nul]") {
  Notes n;
  const std::string body = "ab\0cd"s;
  auto insert_it = [&] { n.conn.execute(insert(n.t).columns({"id", "body"}).rows({1, body})); };
  auto update_it = [&] { n.conn.execute(update(n.t).set("body", literal(body))); };
  auto match_it = [&] {
    return core_conf::fetch<int>(n.conn,
                                 select(n.t.c("id")).where(n.t.c("body") == "ab"s + "\0X"s));
  };
  if (is_sqlite()) {
    insert_it();
    CHECK(n.conn.execute(select(n.t.c("body"))).scalar<std::string>() == body);
    CHECK(n.conn.execute(select(length(cast(n.t.c("body"), LargeBinary)))).scalar<int>() == 5);
    CHECK(match_it().empty());
    update_it();
    CHECK(n.conn.execute(select(n.t.c("body"))).scalar<std::string>() == body);
    return;
  }
  CHECK_THROWS_WITH(insert_it(), Contains("body") && Contains("NUL"));
  CHECK_THROWS_AS(insert_it(), DataError);
  CHECK(n.rows() == 0);
  n.conn.execute(insert(n.t).columns({"id", "body"}).rows({1, "ab"}));
  CHECK_THROWS_AS(match_it(), DataError);
  CHECK_THROWS_WITH(update_it(), Contains("body") && Contains("NUL"));
  CHECK(n.conn.execute(select(n.t.c("body"))).scalar<std::string>() == "ab");
  // The connection is still sound.
  CHECK(n.rows() == 1);
}

TEST_CASE("ORM: a NUL byte in a text member, and in a filter value", "[orm][nul]") {
  conformance::FreshSchema schema;
  {
    Session session(engine());
    session.add(models::User{.name = "secret", .age = 1});
    session.commit();
  }
  Session session(engine());
  // filter_by() with "secret\0X" must not find "secret".
  auto find = [&] {
    return session.query<models::User>().filter_by(&models::User::name, "secret\0X"s).count();
  };
  if (is_sqlite())
    CHECK(find() == 0);
  else
    CHECK_THROWS_AS(find(), DataError);

  session.add(models::User{.name = "ab\0cd"s, .age = 2});
  if (is_sqlite()) {
    session.commit();
    Session reader(engine());
    auto found = reader.query<models::User>().filter(col(&models::User::age) == 2).one();
    CHECK(found->name == "ab\0cd"s);
    return;
  }
  CHECK_THROWS_WITH(session.commit(), Contains("name") && Contains("NUL"));
  session.rollback();
  Session reader(engine());
  CHECK(reader.query<models::User>().count() == 1);
  // The pool hands out sound connections afterwards.
  CHECK(reader.query<models::User>().filter_by(&models::User::name, "secret"s).count() == 1);
}
