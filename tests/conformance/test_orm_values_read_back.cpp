// What Retort writes it reads back: a value the reader could not parse, or that the database
// would store as something else (NaN as NULL on SQLite), is refused when it is written, with a
// DataError, and nothing of the flush reaches the database.
#include "models.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <limits>

using namespace retort;
using models::Sample;

namespace {

using namespace std::chrono;

Sample sample_on(SqlDate day) {
  Sample s;
  s.day = day;
  s.moment = SqlDateTime(sys_days(year{2024} / 1 / 1));
  s.text = "t";
  return s;
}

std::int64_t samples() {
  Session session(conformance::engine());
  return session.query<Sample>().count();
}

} // namespace

TEST_CASE("dates: the years 1 and 9999 round-trip", "[orm][types][values]") {
  conformance::FreshSchema schema;
  const SqlDate first = sys_days(year{1} / 1 / 1);
  const SqlDate last = sys_days(year{9999} / 12 / 31);
  const SqlDateTime last_moment = SqlDateTime(last) + hours(23) + minutes(59) + seconds(59);
  std::int64_t a = 0, b = 0;
  {
    Session session(conformance::engine());
    auto s1 = session.add(sample_on(first));
    Sample s;
    s.day = last;
    s.moment = last_moment;
    s.clock = hours(24);
    auto s2 = session.add(std::move(s));
    session.commit();
    a = s1->id;
    b = s2->id;
  }
  Session session(conformance::engine());
  CHECK(session.get<Sample>(a)->day == first);
  auto s2 = session.get<Sample>(b);
  CHECK(s2->day == last);
  CHECK(s2->moment == last_moment);
  CHECK(s2->clock == hours(24));
}

TEST_CASE("dates the reader cannot parse are refused at write time", "[orm][types][values]") {
  conformance::FreshSchema schema;
  const SqlDate beyond = sys_days(year{10000} / 1 / 1);
  const SqlDate before = sys_days(year{-44} / 3 / 15);
  const SqlDate zero = sys_days(year{0} / 12 / 31);
  for (SqlDate day : {beyond, before, zero}) {
    Session session(conformance::engine());
    session.add(sample_on(sys_days(year{2000} / 1 / 1))); // fine, but in the same flush
    session.add(sample_on(day));
    CHECK_THROWS_AS(session.commit(), DataError);
    session.rollback();
    CHECK(samples() == 0);
  }
  // A timestamp past the range, and a change of a loaded object to such a date.
  {
    Session session(conformance::engine());
    Sample s = sample_on(sys_days(year{2000} / 1 / 1));
    s.moment = SqlDateTime(beyond) + hours(1);
    session.add(std::move(s));
    CHECK_THROWS_AS(session.commit(), DataError);
  }
  std::int64_t id = 0;
  {
    Session session(conformance::engine());
    auto s = session.add(sample_on(sys_days(year{2000} / 1 / 1)));
    session.commit();
    id = s->id;
    s->day = beyond;
    CHECK_THROWS_AS(session.commit(), DataError);
    session.rollback();
  }
  Session session(conformance::engine());
  CHECK(session.get<Sample>(id)->day == sys_days(year{2000} / 1 / 1)); // still readable
  // A time of day outside 00:00..24:00 would not read back either.
  Sample s = sample_on(sys_days(year{2000} / 1 / 1));
  s.clock = -seconds(1);
  session.add(std::move(s));
  CHECK_THROWS_AS(session.commit(), DataError);
}

TEST_CASE("NaN: refused on SQLite, naming the column; kept by PostgreSQL", "[orm][types][values]") {
  conformance::FreshSchema schema;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Sample s = sample_on(sys_days(year{2000} / 1 / 1));
  s.ratio = nan;
  s.maybe_number = nan;
  if (conformance::is_sqlite()) {
    Session session(conformance::engine());
    session.add(std::move(s));
    try {
      session.commit();
      FAIL("a NaN was written");
    } catch (const DataError& e) {
      CHECK_THAT(e.what(), Catch::Contains("samples.ratio"));
    }
    session.rollback();
    CHECK(samples() == 0);
    // An UPDATE too, and the optional column alone.
    Sample fine = sample_on(sys_days(year{2000} / 1 / 1));
    auto added = session.add(std::move(fine));
    session.commit();
    added->maybe_number = nan;
    try {
      session.commit();
      FAIL("a NaN was written");
    } catch (const DataError& e) {
      CHECK_THAT(e.what(), Catch::Contains("samples.maybe_number"));
    }
    session.rollback();
    {
      Session other(conformance::engine());
      CHECK(other.get<Sample>(added->id)->maybe_number == std::nullopt);
    }
    // The Core refuses it as well.
    Connection conn = conformance::engine().connect();
    CHECK_THROWS_AS(conn.execute(text("SELECT :x").bind("x", nan)), DataError);
    return;
  }
  std::int64_t id = 0;
  {
    Session session(conformance::engine());
    auto added = session.add(std::move(s));
    session.commit();
    id = added->id;
  }
  Session session(conformance::engine());
  auto loaded = session.get<Sample>(id);
  REQUIRE(loaded);
  CHECK(std::isnan(loaded->ratio));
  REQUIRE(loaded->maybe_number);
  CHECK(std::isnan(*loaded->maybe_number));
}
