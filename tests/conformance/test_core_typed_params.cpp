// Core conformance, bound parameters and their types: every kind of Value in every expression
// position (select list, comparison, arithmetic, function argument, CASE, CTE, INSERT and
// UPDATE). PostgreSQL infers a parameter's type from the SQL around it, so a value the SQL says
// nothing about (`$1 + 1`, a CASE branch, a recursive CTE's start) must carry its own type.
#include "models.hpp"
#include "test_core_fixture.hpp"

#include <cmath>

using namespace retort;
using conformance::engine;
using core_conf::fetch;
using core_conf::Schema;

namespace {

// One column per kind of value, and a row to compare with.
//  id  n    x    t      b        f
//   1  10   1.5  "ab"   01 ff    true
//   2  400  2.5  "cd"   00       false
struct Kinds {
  Schema s;
  Table t{s.md,
          "core_kinds",
          Column("id", Integer).primary_key(),
          Column("n", Integer),
          Column("x", Float),
          Column("t", String(20)),
          Column("b", LargeBinary),
          Column("f", Boolean)};
  Connection conn;

  Kinds() : conn(open()) {
    conn.execute(insert(t)
                     .columns({"id", "n", "x", "t", "b", "f"})
                     .rows({1, 10, 1.5, "ab", blob({0x01, 0xff}), true, 2, 400, 2.5, "cd",
                            blob({0x00}), false}));
  }
  ~Kinds() { conn.close(); } // before Schema drops the table

  Connection open() {
    s.create();
    return engine().connect();
  }
  const Expr& c(std::string_view name) const { return t.c(name); }

  static Blob blob(std::initializer_list<int> bytes) {
    Blob out;
    for (int b : bytes)
      out.push_back(static_cast<std::byte>(b));
    return out;
  }

  /// The first value of `e` selected alone.
  template <typename T> T one(const Expr& e) { return conn.execute(select(e)).scalar<T>(); }
  /// Ids of the rows matching `where`, by id.
  std::vector<int> ids(const Expr& where) {
    return fetch<int>(conn, select(c("id")).where(where).order_by(c("id")));
  }
};

using Ids = std::vector<int>;

} // namespace

TEST_CASE("parameters in the select list keep their kind", "[core][params]") {
  Kinds k;
  CHECK(k.one<std::int64_t>(literal(7)) == 7);
  CHECK(k.one<std::int64_t>(literal(std::int64_t{5000000000})) == 5000000000);
  CHECK(k.one<double>(literal(2.25)) == 2.25);
  CHECK(k.one<std::string>(literal("text")) == "text");
  CHECK(k.one<Blob>(literal(Kinds::blob({0x00, 0x7f, 0xff}))) == Kinds::blob({0x00, 0x7f, 0xff}));
  CHECK(k.one<bool>(literal(true)));
  CHECK_FALSE(k.one<bool>(literal(false)));
  CHECK(k.one<std::optional<std::int64_t>>(literal(Value())) == std::nullopt);
  // Several at once, beside a column.
  auto r = k.conn.execute(select(literal(1), literal(0.5), literal("a"), literal(true), k.c("id"))
                              .where(k.c("id") == 2));
  CHECK(r.row().get<int>(0) == 1);
  CHECK(r.row().get<double>(1) == 0.5);
  CHECK(r.row().get<std::string>(2) == "a");
  CHECK(r.row().get<bool>(3));
  CHECK(r.row().get<int>(4) == 2);
}

TEST_CASE("arithmetic on parameters", "[core][params]") {
  Kinds k;
  // Both operands bound: nothing in the SQL says they are numbers.
  CHECK(k.one<std::int64_t>(literal(1) + 1) == 2);
  CHECK(k.one<std::int64_t>(literal(6) * literal(7)) == 42);
  CHECK(k.one<double>(literal(1.5) + literal(2.25)) == 3.75);
  CHECK(k.one<double>(literal(3) * 0.5) == 1.5);
  CHECK(k.one<std::int64_t>(literal(std::int64_t{5000000000}) + 1) == 5000000001);
  CHECK(k.one<std::int64_t>(-literal(4)) == -4);
  // A real against an integer column is a real, not text the column's type must parse.
  auto scaled = k.conn.execute(select(k.c("n") * 1.5).where(k.c("id") == 2)).scalar<double>();
  CHECK(scaled == 600.0);
  CHECK(k.conn.execute(select(k.c("x") + 1).where(k.c("id") == 1)).scalar<double>() == 2.5);
  CHECK(k.one<std::string>(literal("ab").concat(literal("cd"))) == "abcd");
}

TEST_CASE("parameters compared in WHERE", "[core][params]") {
  Kinds k;
  CHECK(k.ids(k.c("n") > 150.5) == Ids{2});
  CHECK(k.ids(k.c("n") < 10.5) == Ids{1});
  CHECK(k.ids(k.c("n") == 10) == Ids{1});
  CHECK(k.ids(k.c("n") > std::int64_t{5000000000}) == Ids{});
  CHECK(k.ids(k.c("n") < std::int64_t{5000000000}) == Ids{1, 2});
  CHECK(k.ids(k.c("x") > 2) == Ids{2});
  CHECK(k.ids(k.c("x") == 1.5) == Ids{1});
  CHECK(k.ids(k.c("t") == "cd") == Ids{2});
  CHECK(k.ids(k.c("b") == literal(Kinds::blob({0x01, 0xff}))) == Ids{1});
  CHECK(k.ids(k.c("f") == true) == Ids{1});
  CHECK(k.ids(k.c("f") == false) == Ids{2});
  CHECK(k.ids(k.c("n") == literal(Value())) == Ids{}); // NULL is never equal
  CHECK(k.ids(k.c("n").between(5.5, 10.5)) == Ids{1});
  CHECK(k.ids(k.c("n").in_({literal(400), literal(7)})) == Ids{2});
  // Both sides bound.
  CHECK(k.ids(literal(2) > literal(1.5)) == Ids{1, 2});
  CHECK(k.ids(literal(1) == literal(2)) == Ids{});
  CHECK(k.ids(literal("x") == literal("x")) == Ids{1, 2});
  CHECK(k.ids(literal(true) == literal(true)) == Ids{1, 2});
}

TEST_CASE("parameters as function arguments", "[core][params]") {
  Kinds k;
  CHECK(k.one<std::int64_t>(func("abs", literal(-3))) == 3);
  CHECK(k.one<double>(func("abs", literal(-2.5))) == 2.5);
  CHECK(k.one<std::string>(func("substr", literal("hello"), literal(2), literal(3))) == "ell");
  CHECK(k.one<std::int64_t>(length(literal("hello"))) == 5);
  CHECK(k.one<std::int64_t>(length(literal(Kinds::blob({1, 2, 3})))) == 3);
  CHECK(k.one<std::int64_t>(coalesce(literal(Value()), literal(8))) == 8);
  CHECK(k.one<double>(coalesce(literal(Value()), literal(0.25))) == 0.25);
  CHECK(k.one<std::string>(coalesce(literal(Value()), literal("z"))) == "z");
  CHECK(k.one<bool>(coalesce(literal(Value()), literal(true))));
  CHECK(k.one<Blob>(coalesce(literal(Value()), literal(Kinds::blob({9})))) == Kinds::blob({9}));
  CHECK(k.one<std::int64_t>(max(literal(3) + 4)) == 7);
  CHECK(k.conn.execute(select(sum(k.c("x") * 2))).scalar<double>() == 8.0);
}

TEST_CASE("parameters in CASE", "[core][params]") {
  Kinds k;
  // Counting with CASE: its branches are numbers, so sum() adds numbers.
  CHECK(k.conn.execute(select(sum(case_({{k.c("n") > 300, literal(1)}}, literal(0)))))
            .scalar<std::int64_t>() == 1);
  CHECK(k.conn.execute(select(sum(case_({{k.c("x") > 2, literal(0.5)}}, literal(0.25)))))
            .scalar<double>() == 0.75);
  auto pick = [&](const Expr& then, const Expr& otherwise) {
    return select(case_({{k.c("id") == 1, then}}, otherwise)).order_by(k.c("id"));
  };
  CHECK(fetch<int>(k.conn, pick(literal(10), literal(20))) == Ids{10, 20});
  CHECK(fetch<double>(k.conn, pick(literal(0.5), literal(1.5))) == std::vector<double>{0.5, 1.5});
  CHECK(fetch<std::string>(k.conn, pick(literal("y"), literal("n"))) ==
        std::vector<std::string>{"y", "n"});
  CHECK(fetch<bool>(k.conn, pick(literal(true), literal(false))) == std::vector<bool>{true, false});
  CHECK(fetch<Blob>(k.conn, pick(literal(Kinds::blob({1})), literal(Kinds::blob({2})))) ==
        std::vector<Blob>{Kinds::blob({1}), Kinds::blob({2})});
  CHECK(fetch<std::optional<int>>(k.conn, pick(literal(Value()), literal(3))) ==
        std::vector<std::optional<int>>{std::nullopt, 3});
  // Arithmetic on a CASE of bound values.
  CHECK(k.one<std::int64_t>(case_({{literal(1) == literal(1), literal(2)}}, literal(3)) + 1) == 3);
}

TEST_CASE("parameters in common table expressions, recursive too", "[core][params][cte]") {
  Kinds k;
  // 1..10 from a bound start value, step and bound.
  FromItem base = select(literal(1).label("n")).cte("core_count", true);
  FromItem nums = recursive_union_all(
      base, select((base.c("n") + literal(1)).label("n")).where(base.c("n") < literal(10)));
  CHECK(k.conn.execute(select(sum(nums.c("n")))).scalar<std::int64_t>() == 55);
  // Halving a real.
  FromItem half = select(literal(8.0).label("v")).cte("core_half", true);
  FromItem halves = recursive_union_all(
      half, select((half.c("v") / 2).label("v")).where(half.c("v") > literal(0.5)));
  CHECK(k.conn.execute(select(sum(halves.c("v")))).scalar<double>() == 15.5);
  // Every kind through a plain CTE.
  FromItem row = select(literal(3).label("i"), literal(0.5).label("r"), literal("s").label("t"),
                        literal(true).label("f"), literal(Kinds::blob({7})).label("b"),
                        literal(Value()).label("z"))
                     .cte("core_row");
  auto r = k.conn.execute(
      select(row.c("i") + 1, row.c("r") * 2, row.c("t"), row.c("f"), row.c("b"), row.c("z")));
  CHECK(r.row().get<int>(0) == 4);
  CHECK(r.row().get<double>(1) == 1.0);
  CHECK(r.row().get<std::string>(2) == "s");
  CHECK(r.row().get<bool>(3));
  CHECK(r.row().get<Blob>(4) == Kinds::blob({7}));
  CHECK(r.row().is_null(5));
}

TEST_CASE("parameters in INSERT and UPDATE, plain and in expressions", "[core][params][dml]") {
  Kinds k;
  // Expressions as inserted values.
  k.conn.execute(
      insert(k.t)
          .columns({"id", "n", "x", "t", "b", "f"})
          .row({literal(1) + 2, literal(2) * 3, literal(0.5) + 1, literal("p").concat("q"),
                coalesce(literal(Value()), literal(Kinds::blob({5}))), literal(1) == literal(1)}));
  auto r = k.conn.execute(
      select(k.c("n"), k.c("x"), k.c("t"), k.c("b"), k.c("f")).where(k.c("id") == 3));
  CHECK(r.row().get<int>(0) == 6);
  CHECK(r.row().get<double>(1) == 1.5);
  CHECK(r.row().get<std::string>(2) == "pq");
  CHECK(r.row().get<Blob>(3) == Kinds::blob({5}));
  CHECK(r.row().get<bool>(4));
  // Plain values of every kind, and NULL, into their columns.
  k.conn.execute(insert(k.t)
                     .columns({"id", "n", "x", "t", "b", "f"})
                     .row({4, Value(), 2, "u", Value(), false}));
  CHECK(k.conn.execute(select(k.c("x")).where(k.c("id") == 4)).scalar<double>() == 2.0);
  CHECK(k.conn.execute(select(k.c("n")).where(k.c("id") == 4)).scalar<std::optional<int>>() ==
        std::nullopt);

  // UPDATE: plain values, expressions of bound values and of columns with bound values.
  k.conn.execute(update(k.t)
                     .set("n", k.c("n") + 1)
                     .set("x", k.c("x") * 1.5)
                     .set("t", literal("v"))
                     .set("b", literal(Kinds::blob({6, 6})))
                     .set("f", literal(true))
                     .where(k.c("id") == 1));
  auto u = k.conn.execute(
      select(k.c("n"), k.c("x"), k.c("t"), k.c("b"), k.c("f")).where(k.c("id") == 1));
  CHECK(u.row().get<int>(0) == 11);
  CHECK(u.row().get<double>(1) == 2.25);
  CHECK(u.row().get<std::string>(2) == "v");
  CHECK(u.row().get<Blob>(3) == Kinds::blob({6, 6}));
  CHECK(u.row().get<bool>(4));
  k.conn.execute(update(k.t)
                     .set("n", case_({{k.c("x") > literal(2.0), literal(100)}}, literal(200)))
                     .set("x", literal(Value()))
                     .where(k.c("id") <= 2));
  CHECK(fetch<int>(k.conn, select(k.c("n")).where(k.c("id") <= 2).order_by(k.c("id"))) ==
        Ids{100, 100});
  CHECK(fetch<std::optional<double>>(k.conn,
                                     select(k.c("x")).where(k.c("id") <= 2).order_by(k.c("id"))) ==
        std::vector<std::optional<double>>{std::nullopt, std::nullopt});
}

TEST_CASE("the same statement with differently typed parameters", "[core][params][cache]") {
  Kinds k;
  // One shape, an integer then a real then NULL in the same place: each runs with its own type.
  for (int round = 0; round < 2; ++round) {
    CHECK(k.ids(k.c("n") > literal(150)) == Ids{2});
    CHECK(k.ids(k.c("n") > literal(150.5)) == Ids{2});
    CHECK(k.ids(k.c("n") > literal(9.5)) == Ids{1, 2});
    CHECK(k.ids(k.c("n") > literal(Value())) == Ids{});
    CHECK(k.ids(k.c("n") > literal(std::int64_t{-5000000000})) == Ids{1, 2});
    CHECK(k.one<double>(literal(1.5) + literal(1)) == 2.5);
    CHECK(k.one<std::int64_t>(literal(1) + literal(1)) == 2);
  }
  // Raw text with named parameters is typed the same way.
  CHECK(k.conn.execute(text("SELECT :a + :b").bind("a", 1).bind("b", 2)).scalar<int>() == 3);
  CHECK(k.conn.execute(text("SELECT :a * :b").bind("a", 2).bind("b", 0.25)).scalar<double>() ==
        0.5);
}

TEST_CASE("ORM filters with a real against an integer column", "[orm][params]") {
  conformance::FreshSchema schema;
  {
    Session session(engine());
    session.add(models::User{.name = "young", .age = 29});
    session.add(models::User{.name = "old", .age = 30});
    session.commit();
  }
  Session session(engine());
  auto over = session.query<models::User>().filter(col(&models::User::age) > 29.5).all();
  REQUIRE(over.size() == 1);
  CHECK(over[0]->name == "old");
  CHECK(session.query<models::User>().filter(col(&models::User::age) < 29.5).count() == 1);
}
