// The statements a mapper compiles once and runs with every key (get(), the UPDATE and DELETE
// of a flush) take any key the column holds. On PostgreSQL they were compiled with a stand-in
// integer parameter cast to int4: every key past 2^31 failed (22003) and every text key too
// (42883, "character varying = integer").
#include "models.hpp"

#include <catch2/catch.hpp>

using namespace retort;
using models::OrderLine;
using models::User;

namespace {

// Past the range of a 32-bit integer.
constexpr std::int64_t big = 5'000'000'000;

} // namespace

TEST_CASE("get(), UPDATE and DELETE by a key past 2^31", "[orm][keys]") {
  conformance::FreshSchema schema;
  {
    Session session(conformance::engine());
    session.add(User{.id = big, .name = "big"});
    session.add(User{.id = big + 1, .name = "bigger"});
    session.commit();
  }
  Session session(conformance::engine());
  auto user = session.get<User>(big);
  REQUIRE(user);
  CHECK(user->name == "big");
  user->name = "renamed";
  session.commit();
  auto other = session.get<User>(big + 1);
  REQUIRE(other);
  session.remove(user);
  session.remove(other);
  session.commit();

  Session check(conformance::engine());
  CHECK(check.query<User>().count() == 0);
}

TEST_CASE("get(), UPDATE and DELETE by a composite key past 2^31", "[orm][keys]") {
  conformance::FreshSchema schema;
  {
    Session session(conformance::engine());
    session.add(OrderLine{.order_id = big, .line_no = 1, .product = "p", .price = 1.5});
    session.commit();
  }
  Session session(conformance::engine());
  auto line = session.get<OrderLine>(big, 1);
  REQUIRE(line);
  line->product = "q";
  session.commit();
  {
    Session check(conformance::engine());
    auto again = check.get<OrderLine>(big, 1);
    REQUIRE(again);
    CHECK(again->product == "q");
  }
  session.remove(line);
  session.commit();
  Session check(conformance::engine());
  CHECK(check.query<OrderLine>().count() == 0);
}
