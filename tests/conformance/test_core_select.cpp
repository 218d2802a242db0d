// Core conformance, SELECT: criteria, operators, functions, joins, subqueries, CTEs, compound
// selects, grouping, ordering, paging. Rows are ordered by id wherever names would sort by the
// server's collation (PostgreSQL's may ignore case, SQLite's never does).
#include "test_core_fixture.hpp"

using namespace retort;
using conformance::engine;
using core_conf::fetch;
using core_conf::Schema;

namespace {

// id name age  city
//  1 ann   30  Paris
//  2 Bob   20  Oslo
//  3 cy   NULL Paris
//  4 dee   50  NULL
//  5 Eve   41  Oslo
// addresses: ann x2, Bob x1, Eve x1.
struct People {
  Schema s;
  Table users{s.md,
              "core_people",
              Column("id", Integer).primary_key(),
              Column("name", String(40)).not_null(),
              Column("age", Integer),
              Column("city", String(40))};
  Table addresses{s.md, "core_addresses", Column("id", Integer).primary_key(),
                  Column("user_id", Integer).not_null().references("core_people.id"),
                  Column("email", String(80)).not_null()};
  Connection conn;

  People() : conn(prepare()) {
    conn.execute(insert(users)
                     .columns({"id", "name", "age", "city"})
                     .rows({1,       "ann",   30, "Paris", 2,  "Bob",   20, "Oslo", 3,  "cy",
                            Value(), "Paris", 4,  "dee",   50, Value(), 5,  "Eve",  41, "Oslo"}));
    conn.execute(insert(addresses)
                     .columns({"id", "user_id", "email"})
                     .rows({1, 1, "ann@a", 2, 1, "ann@b", 3, 2, "bob@a", 4, 5, "eve@a"}));
  }
  ~People() { conn.close(); } // before Schema drops the tables

  Connection prepare() {
    s.create();
    return engine().connect();
  }
  const Expr& c(std::string_view name) const { return users.c(name); }

  /// Ids of the users matching `where`, by id.
  std::vector<int> ids(const Expr& where) {
    return fetch<int>(conn, select(c("id")).where(where).order_by(c("id")));
  }
  template <typename T> T one(const Expr& e, int id = 1) {
    return conn.execute(select(e).where(c("id") == id)).scalar<T>();
  }
};

using Ids = std::vector<int>;

} // namespace

TEST_CASE("where with and, or, not and comparisons", "[core][select]") {
  People p;
  CHECK(p.ids((p.c("age") > 25 && p.c("city") == "Paris") || p.c("name") == "Bob") == Ids{1, 2});
  CHECK(p.ids(and_(p.c("age") > 10, p.c("age") < 45, p.c("city") == "Oslo")) == Ids{2, 5});
  CHECK(p.ids(or_(p.c("id") == 1, p.c("id") == 4)) == Ids{1, 4});
  // NOT of an unknown (NULL city) is unknown, so dee is in neither result.
  CHECK(p.ids(!(p.c("city") == "Paris")) == Ids{2, 5});
  CHECK(p.ids(not_(p.c("city") == "Paris" || p.c("city") == "Oslo")) == Ids{});
  CHECK(p.ids(p.c("age") < 30) == Ids{2});
  CHECK(p.ids(p.c("age") <= 30) == Ids{1, 2});
  CHECK(p.ids(p.c("age") != 30) == Ids{2, 4, 5});
  CHECK(p.ids(p.c("age") >= 41) == Ids{4, 5});
  CHECK(p.ids(p.c("age") > p.c("id") * 10) == Ids{1, 4});
  // Several where() calls are joined with AND.
  CHECK(fetch<int>(
            p.conn,
            select(p.c("id")).where(p.c("age") > 10).where(p.c("age") < 35).order_by(p.c("id"))) ==
        Ids{1, 2});
}

TEST_CASE("IN list, IN subquery, BETWEEN, IS NULL", "[core][select]") {
  People p;
  CHECK(p.ids(p.c("id").in_(std::vector<int>{1, 3, 99})) == Ids{1, 3});
  CHECK(p.ids(p.c("name").in_(std::vector<std::string>{"Bob", "Eve"})) == Ids{2, 5});
  CHECK(p.ids(p.c("id").not_in(std::vector<int>{1, 3})) == Ids{2, 4, 5});
  CHECK(p.ids(p.c("id").in_(std::vector<int>{})) == Ids{});
  CHECK(p.ids(p.c("id").not_in(std::vector<int>{})) == Ids{1, 2, 3, 4, 5});
  CHECK(p.ids(p.c("id").in_(select(p.addresses.c("user_id")))) == Ids{1, 2, 5});
  CHECK(p.ids(p.c("id").not_in(select(p.addresses.c("user_id")))) == Ids{3, 4});
  CHECK(p.ids(p.c("age").between(20, 41)) == Ids{1, 2, 5});
  CHECK(p.ids(p.c("age").not_between(20, 41)) == Ids{4});
  CHECK(p.ids(p.c("age").is_null()) == Ids{3});
  CHECK(p.ids(p.c("age").is_not_null()) == Ids{1, 2, 4, 5});
  // Comparing with a NULL value means IS NULL / IS NOT NULL, not "= NULL" (never true).
  CHECK(p.ids(p.c("city") == Value()) == Ids{4});
  CHECK(p.ids(p.c("city") != Value()) == Ids{1, 2, 3, 5});
  CHECK(p.ids(p.c("city") == std::optional<std::string>()) == Ids{4});
}

TEST_CASE("LIKE follows the backend, ILIKE is case-insensitive everywhere", "[core][select]") {
  People p;
  CHECK(p.ids(p.c("name").like("%e%")) == Ids{4, 5});
  CHECK(p.ids(p.c("name").not_like("%e%")) == Ids{1, 2, 3});
  CHECK(p.ids(p.c("name").like("_o_")) == Ids{2});
  if (conformance::is_sqlite()) {
    // SQLite's LIKE ignores ASCII case.
    CHECK(p.ids(p.c("name").like("e%")) == Ids{5});
  } else {
    CHECK(p.ids(p.c("name").like("e%")) == Ids{});
  }
  CHECK(p.ids(p.c("name").ilike("e%")) == Ids{5});
  CHECK(p.ids(p.c("name").ilike("%B%")) == Ids{2});
  CHECK(p.ids(p.c("name").ilike("ANN")) == Ids{1});
  CHECK(p.ids(p.c("name").not_ilike("%E%")) == Ids{1, 2, 3});
  CHECK(p.ids(p.addresses.c("email").like("%@b") && p.addresses.c("user_id") == p.c("id")) ==
        Ids{1});
}

TEST_CASE("arithmetic, concatenation and functions", "[core][select]") {
  People p;
  CHECK(p.one<int>((p.c("age") * 2 + 1).label("x")) == 61);
  CHECK(p.one<int>(p.c("age") - p.c("id")) == 29);
  CHECK(p.one<int>(p.c("age") / 7) == 4); // integer division on both
  CHECK(p.one<int>(p.c("age") % 7) == 2);
  CHECK(p.one<int>(-p.c("age")) == -30);
  CHECK(p.one<double>(cast(p.c("age"), Float) / 8) == 3.75);
  CHECK(p.one<std::string>(p.c("name").concat("@").concat(p.c("city"))) == "ann@Paris");
  CHECK(p.one<std::string>(upper(p.c("name"))) == "ANN");
  CHECK(p.one<std::string>(lower(p.c("name")), 2) == "bob");
  CHECK(p.one<int>(length(p.c("city"))) == 5);
  CHECK(p.one<int>(coalesce(p.c("age"), -1), 3) == -1);
  CHECK(p.one<int>(coalesce(p.c("age"), -1), 1) == 30);
  CHECK(p.one<std::string>(coalesce(p.c("city"), "nowhere"), 4) == "nowhere");
  // NULL propagates through arithmetic and concatenation.
  CHECK(p.one<std::optional<int>>(p.c("age") + 1, 3) == std::nullopt);
  CHECK(p.one<std::optional<std::string>>(p.c("name").concat(p.c("city")), 4) == std::nullopt);
  CHECK(p.one<std::string>(func("replace", p.c("name"), "n", "N")) == "aNN");
  // || mixed with arithmetic means what the expression tree says, whatever the dialect's
  // precedence of || (SQLite binds it tightest, PostgreSQL looser than +).
  CHECK(p.one<std::string>(p.c("name").concat(cast(p.c("age") + 1, String(10)))) == "ann31");
  CHECK(p.one<std::string>(p.c("name").concat(p.c("age") * 2)) == "ann60");
}

TEST_CASE("aggregates: count, sum, min, max, avg", "[core][select]") {
  People p;
  auto r = p.conn.execute(select(count().label("n"), count(p.c("age")).label("n_age"),
                                 count(p.c("city").distinct()).label("cities"),
                                 sum(p.c("age")).label("total"), min(p.c("age")).label("lo"),
                                 max(p.c("age")).label("hi"), avg(p.c("age")).label("mean"),
                                 max(p.c("name")).label("last"))
                              .select_from(p.users));
  REQUIRE(r.has_row());
  const Row row = r.row();
  CHECK(row.get<std::int64_t>("n") == 5);
  CHECK(row.get<std::int64_t>("n_age") == 4);
  CHECK(row.get<std::int64_t>("cities") == 2);
  CHECK(row.get<std::int64_t>("total") == 141);
  CHECK(row.get<int>("lo") == 20);
  CHECK(row.get<int>("hi") == 50);
  // avg of integers: a numeric on PostgreSQL, a double on SQLite; both read as double.
  CHECK(row.get<double>("mean") == Approx(35.25));
  CHECK(r.columns() ==
        std::vector<std::string>{"n", "n_age", "cities", "total", "lo", "hi", "mean", "last"});
  r.close();
  // Aggregates over no rows: count is 0, the others NULL.
  auto empty = p.conn.execute(
      select(count().label("n"), sum(p.c("age")).label("s"), max(p.c("age")).label("m"))
          .select_from(p.users)
          .where(p.c("id") > 100));
  REQUIRE(empty.has_row());
  CHECK(empty.row().get<std::int64_t>("n") == 0);
  CHECK(empty.row().get<std::optional<std::int64_t>>("s") == std::nullopt);
  CHECK(empty.row().get<std::optional<int>>("m") == std::nullopt);
}

TEST_CASE("CASE and CAST", "[core][select]") {
  People p;
  auto bucket = case_({{p.c("age") < 25, literal("young")}, {p.c("age") < 45, literal("middle")}},
                      literal("old"))
                    .label("bucket");
  CHECK(fetch<std::string>(p.conn, select(bucket).select_from(p.users).order_by(p.c("id"))) ==
        std::vector<std::string>{"middle", "young", "old", "old", "middle"});
  // Without ELSE, unmatched rows give NULL.
  auto flag = case_({{p.c("city") == "Oslo", literal(1)}});
  CHECK(fetch<std::optional<int>>(
            p.conn, select(cast(flag, Integer)).select_from(p.users).order_by(p.c("id"))) ==
        std::vector<std::optional<int>>{std::nullopt, 1, std::nullopt, std::nullopt, 1});

  CHECK(p.one<std::string>(cast(p.c("age"), String(10))) == "30");
  CHECK(p.one<int>(cast(literal("42"), Integer) + 1) == 43);
  CHECK(p.one<std::int64_t>(cast(p.c("age"), BigInteger) * 1000000000) == 30000000000);
  CHECK(p.one<double>(cast(literal("2.5"), Float) * 2) == 5.0);
  // CAST to DATE: a date on PostgreSQL; on SQLite DATE has NUMERIC affinity, so the text's
  // leading number is all that is left.
  if (conformance::is_sqlite())
    CHECK(p.one<int>(cast(literal("2024-02-29"), Date)) == 2024);
  else
    CHECK(p.one<std::string>(cast(literal("2024-02-29"), Date)) == "2024-02-29");
}

TEST_CASE("inner, left and self joins with aliases", "[core][select][join]") {
  People p;
  FromItem u = p.users.alias("u");
  FromItem a = p.addresses.alias("a");
  auto r = p.conn.execute(select(u.c("name"), a.c("email"))
                              .select_from(u.join(a, a.c("user_id") == u.c("id")))
                              .order_by(a.c("id")));
  std::vector<std::string> pairs;
  for (const Row& row : r)
    pairs.push_back(row.get<std::string>(0) + " " + row.get<std::string>("email"));
  CHECK(pairs == std::vector<std::string>{"ann ann@a", "ann ann@b", "Bob bob@a", "Eve eve@a"});

  // LEFT JOIN keeps users without addresses, with NULL on the right.
  auto left = p.conn.execute(select(u.c("id"), a.c("email"))
                                 .select_from(u.outerjoin(a, a.c("user_id") == u.c("id")))
                                 .order_by(u.c("id"), a.c("id")));
  std::vector<std::optional<std::string>> emails;
  for (const Row& row : left)
    emails.push_back(row.get<std::optional<std::string>>(1));
  CHECK(emails == std::vector<std::optional<std::string>>{"ann@a", "ann@b", "bob@a", std::nullopt,
                                                          std::nullopt, "eve@a"});

  // Counting through a left join with group by.
  CHECK(fetch<std::int64_t>(p.conn, select(count(a.c("id")))
                                        .select_from(u.outerjoin(a, a.c("user_id") == u.c("id")))
                                        .group_by(u.c("id"))
                                        .order_by(u.c("id"))) ==
        std::vector<std::int64_t>{2, 1, 0, 0, 1});

  // Select::join() from the columns' table, and join_condition() along the foreign key.
  CHECK(fetch<std::string>(p.conn, select(p.addresses.c("email"))
                                       .join(p.users, join_condition(p.addresses, p.users))
                                       .where(p.c("city") == "Oslo")
                                       .order_by(p.addresses.c("id"))) ==
        std::vector<std::string>{"bob@a", "eve@a"});

  // The same table twice: pairs of users living in one city.
  FromItem u1 = p.users.alias("u1");
  FromItem u2 = p.users.alias("u2");
  auto same_city = p.conn.execute(
      select(u1.c("id"), u2.c("id"))
          .select_from(u1.join(u2, u1.c("city") == u2.c("city") && u1.c("id") < u2.c("id")))
          .order_by(u1.c("id")));
  std::vector<std::pair<int, int>> couples;
  for (const Row& row : same_city)
    couples.emplace_back(row.get<int>(0), row.get<int>(1));
  CHECK(couples == std::vector<std::pair<int, int>>{{1, 3}, {2, 5}});

  if (engine().dialect().supports_full_outer_join()) {
    auto full =
        p.conn.execute(select(count()).select_from(u.full_join(a, a.c("user_id") == u.c("id"))));
    CHECK(full.scalar<std::int64_t>() == 6);
  }
}

TEST_CASE("subqueries: in FROM, scalar, EXISTS", "[core][select][subquery]") {
  People p;
  FromItem per_user = select(p.addresses.c("user_id"), count().label("n"))
                          .group_by(p.addresses.c("user_id"))
                          .subquery("per_user");
  auto r =
      p.conn.execute(select(p.c("name"), per_user.c("n"))
                         .select_from(p.users.join(per_user, per_user.c("user_id") == p.c("id")))
                         .order_by(per_user.c("n").desc(), p.c("id")));
  std::vector<std::string> got;
  for (const Row& row : r)
    got.push_back(row.get<std::string>("name") + "=" + std::to_string(row.get<int>("n")));
  CHECK(got == std::vector<std::string>{"ann=2", "Bob=1", "Eve=1"});

  // A correlated scalar subquery in the select list.
  auto n_addresses = select(count())
                         .select_from(p.addresses)
                         .where(p.addresses.c("user_id") == p.c("id"))
                         .label("n_addresses");
  CHECK(fetch<std::int64_t>(p.conn, select(n_addresses).select_from(p.users).order_by(p.c("id"))) ==
        std::vector<std::int64_t>{2, 1, 0, 0, 1});
  // A scalar subquery in WHERE.
  CHECK(p.ids(p.c("age") > select(avg(p.c("age"))).select_from(p.users).scalar_subquery()) ==
        Ids{4, 5});

  auto has_address =
      exists(select(p.addresses.c("id")).where(p.addresses.c("user_id") == p.c("id")));
  CHECK(p.ids(has_address) == Ids{1, 2, 5});
  CHECK(p.ids(!has_address) == Ids{3, 4});
}

TEST_CASE("common table expressions, recursive too", "[core][select][cte]") {
  People p;
  FromItem old = select(p.c("id"), p.c("name")).where(p.c("age") > 35).cte("core_old");
  CHECK(fetch<std::string>(p.conn, select(old.c("name")).order_by(old.c("id"))) ==
        std::vector<std::string>{"dee", "Eve"});
  // A CTE joined to a table.
  CHECK(fetch<std::string>(
            p.conn,
            select(p.addresses.c("email"))
                .select_from(old.join(p.addresses, p.addresses.c("user_id") == old.c("id")))) ==
        std::vector<std::string>{"eve@a"});

  // 1..10 by recursion. The start value is cast: an untyped parameter would be text on
  // PostgreSQL.
  FromItem base = select(cast(literal(1), Integer).label("n")).cte("core_nums", true);
  FromItem nums =
      recursive_union_all(base, select((base.c("n") + 1).label("n")).where(base.c("n") < 10));
  CHECK(p.conn.execute(select(sum(nums.c("n")))).scalar<std::int64_t>() == 55);
  CHECK(
      fetch<int>(p.conn, select(nums.c("n")).where(nums.c("n") > 7).order_by(nums.c("n").desc())) ==
      Ids{10, 9, 8});
}

TEST_CASE("UNION and UNION ALL", "[core][select][compound]") {
  People p;
  auto paris = select(p.c("city")).where(p.c("city") == "Paris");
  auto oslo = select(p.c("city")).where(p.c("city") == "Oslo");
  CHECK(fetch<std::string>(p.conn, union_all(paris, oslo).order_by(p.c("city"))) ==
        std::vector<std::string>{"Oslo", "Oslo", "Paris", "Paris"});
  CHECK(fetch<std::string>(p.conn, paris.union_(oslo).order_by(p.c("city"))) ==
        std::vector<std::string>{"Oslo", "Paris"});
  // NULL is one value for UNION; nulls_last() orders it the same way on every backend.
  auto young = select(p.c("city")).where(p.c("age") < 35);
  auto older = select(p.c("city")).where(p.c("age") > 35);
  CHECK(fetch<std::optional<std::string>>(
            p.conn, union_(young, older).order_by(p.c("city").nulls_last())) ==
        std::vector<std::optional<std::string>>{"Oslo", "Paris", std::nullopt});
  CHECK(fetch<std::string>(p.conn, union_all(paris, oslo).order_by(p.c("city").desc()).limit(1)) ==
        std::vector<std::string>{"Paris"});
}

TEST_CASE("group by, having, distinct", "[core][select]") {
  People p;
  auto r = p.conn.execute(select(p.c("city"), count().label("n"), sum(p.c("age")).label("total"))
                              .where(p.c("city").is_not_null())
                              .group_by(p.c("city"))
                              .having(count() > 1)
                              .order_by(p.c("city")));
  std::vector<std::string> got;
  for (const Row& row : r)
    got.push_back(row.get<std::string>(0) + ":" + std::to_string(row.get<int>("n")) + ":" +
                  std::to_string(row.get<int>("total")));
  CHECK(got == std::vector<std::string>{"Oslo:2:61", "Paris:2:30"});
  CHECK(fetch<std::string>(
            p.conn, select(p.c("city")).group_by(p.c("city")).having(sum(p.c("age")) > 50)) ==
        std::vector<std::string>{"Oslo"});
  CHECK(
      fetch<std::string>(
          p.conn,
          select(p.c("city")).distinct().where(p.c("city").is_not_null()).order_by(p.c("city"))) ==
      std::vector<std::string>{"Oslo", "Paris"});
}

TEST_CASE("order by asc/desc, nulls first/last, limit and offset", "[core][select]") {
  People p;
  auto by = [&](const Expr& order) {
    return fetch<int>(p.conn, select(p.c("id")).select_from(p.users).order_by(order, p.c("id")));
  };
  CHECK(by(p.c("age").desc().nulls_last()) == Ids{4, 5, 1, 2, 3});
  CHECK(by(p.c("age").desc().nulls_first()) == Ids{3, 4, 5, 1, 2});
  CHECK(by(p.c("age").asc().nulls_first()) == Ids{3, 2, 1, 5, 4});
  CHECK(by(p.c("age").nulls_last()) == Ids{2, 1, 5, 4, 3});
  // Without NULLS FIRST/LAST each backend has its own rule: NULL is smallest on SQLite and
  // largest on PostgreSQL.
  if (conformance::is_sqlite())
    CHECK(by(p.c("age")) == Ids{3, 2, 1, 5, 4});
  else
    CHECK(by(p.c("age")) == Ids{2, 1, 5, 4, 3});
  CHECK(fetch<int>(p.conn, select(p.c("id")).order_by(desc(p.c("id")))) == Ids{5, 4, 3, 2, 1});
  CHECK(fetch<int>(p.conn, select(p.c("id")).order_by(p.c("city").desc().nulls_last(),
                                                      p.c("age").desc().nulls_last())) ==
        Ids{1, 3, 5, 2, 4});

  auto paged = select(p.c("id")).order_by(p.c("id"));
  CHECK(fetch<int>(p.conn, paged.limit(2)) == Ids{1, 2});
  CHECK(fetch<int>(p.conn, paged.limit(2).offset(1)) == Ids{2, 3});
  CHECK(fetch<int>(p.conn, paged.offset(3)) == Ids{4, 5}); // OFFSET alone (SQLite needs a LIMIT)
  CHECK(fetch<int>(p.conn, paged.limit(0)) == Ids{});
  CHECK(fetch<int>(p.conn, paged.limit(10).offset(10)) == Ids{});
}
