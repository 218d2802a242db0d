// What a user holds must not need a plugin's code after its Engine is gone (DESIGN.md,
// "Plugins": a plugin stays loaded until the process exits). Written as the README writes
// programs, with the public header only; run as `outlive_engine <sqlite|postgresql> <scenario>`:
//   error   the README pattern: a database error thrown inside the plugin, caught in main's
//           function-try-block after the Engine (the last one) has been destroyed
//   values  a Result and the Values read from it, used after the Engine is gone
// Exit 0 on success, 1 on a wrong outcome, 77 (skipped) when PostgreSQL is not configured.
#include <retort/retort.hpp>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr int skipped = 77;

struct Skip {};

std::string url_of(const std::string& backend) {
  if (backend == "sqlite") return "sqlite:///:memory:";
  const char* url = std::getenv("RETORT_TEST_POSTGRES_URL");
  if (url && *url) return url;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") {
    std::cerr << "RETORT_TEST_POSTGRES_URL is not set on CI\n";
    std::exit(1);
  }
  throw Skip{};
}

// Throws the database's error from inside the plugin; the engine dies while it propagates.
void fail_inside_plugin(const std::string& url) {
  auto engine = retort::create_engine(url);
  auto connection = engine.connect();
  connection.execute_sql("SELECT * FROM no_such_table_outlive");
}

int values_outlive_engine(const std::string& url) {
  std::optional<retort::Result> result;
  std::vector<retort::Value> first;
  {
    auto engine = retort::create_engine(url);
    auto connection = engine.connect();
    result.emplace(connection.execute_sql(
        "SELECT 'kept text' AS t, 42 AS i UNION ALL SELECT 'second row', 43 ORDER BY 2"));
    if (!result->has_row()) return 1; // the first row is current after execute
    first = result->row().values();
  }
  // The Result still reads rows after its Engine and Connection handles are gone.
  if (!result->next()) return 1;
  auto second = result->row().values();
  result.reset(); // the last handle: the connection, its pool and the engine go away here
  const bool ok = first.size() == 2 && first[0].as_text() == "kept text" &&
                  first[1].as_int() == 42 && second[0].as_text() == "second row" &&
                  second[1].as_int() == 43;
  std::cout << "values read after the engine is gone: " << first[0].as_text() << ", "
            << second[0].as_text() << "\n";
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::cerr << "usage: outlive_engine <sqlite|postgresql> <error|values>\n";
    return 2;
  }
  const std::string backend = argv[1], scenario = argv[2];
  const auto url = url_of(backend);
  if (scenario == "values") return values_outlive_engine(url);
  fail_inside_plugin(url);
  std::cerr << "no error was thrown\n";
  return 1;
} catch (const Skip&) {
  std::cout << "RETORT_TEST_POSTGRES_URL is not set: skipped\n";
  return skipped;
} catch (const retort::DatabaseError& e) {
  // Everything about the error is read after the plugin's last Engine was destroyed.
  std::cout << "caught after the engine was destroyed: " << e.what() << "\n";
  const std::string message = e.message();
  const bool ok = message.find("no_such_table_outlive") != std::string::npos &&
                  e.sql().find("no_such_table_outlive") != std::string::npos;
  return ok ? 0 : 1;
} catch (const retort::Error& e) {
  std::cerr << "unexpected error: " << e.what() << "\n";
  return 1;
}
