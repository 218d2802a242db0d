// A database error's message shows the start of a huge statement (a multi-row INSERT of 15 KB
// once made a 15 KB what()); the error object keeps the whole statement.
#include <retort/retort.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace {

void check_capped(const std::string& url) {
  auto engine = retort::create_engine(url);
  auto connection = engine.connect();
  std::string sql = "SELECT * FROM no_such_table_capped WHERE x IN (0";
  for (int i = 1; i < 3000; ++i)
    sql += ", " + std::to_string(i);
  sql += ")";
  REQUIRE(sql.size() > 15000);
  try {
    connection.execute_sql(sql);
    FAIL("no DatabaseError");
  } catch (const retort::DatabaseError& e) {
    const std::string what = e.what();
    CHECK(e.sql() == sql);
    CHECK(what.size() < 1024 + 512);
    CHECK_THAT(what, Catch::Contains("no_such_table_capped"));
    CHECK_THAT(what, Catch::Contains("[SQL: SELECT * FROM no_such_table_capped WHERE x IN (0, 1"));
    CHECK_THAT(what,
               Catch::Contains("\u2026(" + std::to_string(sql.size() - 1024) + " more bytes)]"));
  }
  // A short statement is shown whole.
  try {
    connection.execute_sql("SELECT * FROM no_such_table_short");
    FAIL("no DatabaseError");
  } catch (const retort::DatabaseError& e) {
    CHECK_THAT(e.what(), Catch::EndsWith("[SQL: SELECT * FROM no_such_table_short]"));
  }
}

} // namespace

TEST_CASE("database errors cap the statement shown in what()", "[plugins][errors]") {
  SECTION("sqlite") { check_capped("sqlite:///:memory:"); }
  SECTION("postgresql") {
    const char* url = std::getenv("RETORT_TEST_POSTGRES_URL");
    if (!url || !*url) {
      WARN("SKIPPED: RETORT_TEST_POSTGRES_URL is not set");
      return;
    }
    check_capped(url);
  }
}
