// The YAML configuration layer: the shape of DESIGN.md, strictness, locations and secrets.
#include "scoped_env.hpp"
#include <retort/config/config.hpp>
#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/plugin/create_engine.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path data_dir = CONFIG_DATA_DIR;

using retort::test::ScopedEnv;

retort::ConfigError config_error(const std::string& file) {
  try {
    (void)retort::load_config(data_dir / file);
  } catch (const retort::ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError for " << file);
  throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("a full configuration is read with every key", "[config]") {
  ScopedEnv pw("RETORT_TEST_CONFIG_PW", std::nullopt);
  ScopedEnv host("RETORT_TEST_CONFIG_HOST", "db.internal");
  const auto config = retort::load_config(data_dir / "full.yaml");
  CHECK(config.file == data_dir / "full.yaml");
  REQUIRE(config.plugin_paths.size() == 2);
  CHECK(config.plugin_paths[0] == data_dir / "plugins-a");
  CHECK(config.plugin_paths[1] == "/opt/retort/plugins");

  const auto& main = config.engine("main");
  CHECK(main.url == "postgresql://app:fallback@db.internal:5432/app");
  CHECK(main.echo);
  CHECK(main.plugin == (data_dir.parent_path() / "custom" / "retort-dialect-postgresql.so"));
  CHECK(main.plugin_paths == config.plugin_paths);
  CHECK(main.pool.kind == "queue");
  CHECK(main.pool.size == 3);
  CHECK(main.pool.max_overflow == -1);
  CHECK(main.pool.timeout == 500ms);
  CHECK(main.pool.recycle == std::chrono::milliseconds(1h));
  CHECK(main.pool.idle_timeout == std::chrono::milliseconds(2min));
  CHECK(main.pool.pre_ping);
  CHECK_FALSE(main.pool.reset_on_return);
  CHECK(main.pool.lifo);
  CHECK(main.pool_plugin == data_dir / "retort-pool-queue.so");
  CHECK(main.options.at("busy_timeout") == "5000");
  CHECK(main.options.at("application_name") == "retort-${literal}");

  const auto& plain = config.engine("plain");
  CHECK(plain.url == "sqlite://");
  CHECK_FALSE(plain.echo);
  CHECK(plain.pool.kind.empty());
  CHECK(plain.pool.timeout == 1500ms);
  CHECK(plain.pool.size == retort::PoolOptions{}.size);
}

TEST_CASE("errors name file:line:column and what was expected", "[config]") {
  struct Case {
    std::string file;
    int line;
    int column;
    std::string message;
  };
  const auto c = GENERATE(values<Case>({
      {"unknown_key.yaml", 6, 7,
       "engines.default.pool: unknown key 'sise'; expected one of: kind, size"},
      {"wrong_type.yaml", 4, 18,
       "engines.default.pool.size: expected an integer from 0 to 100000, got 'four'"},
      {"duplicate_key.yaml", 5, 5, "engines.default: duplicate key 'url' (first at line 3)"},
      {"duplicate_engine.yaml", 4, 3, "engines: duplicate key 'default' (first at line 2)"},
      {"missing_url.yaml", 2, 3, "engines.default: missing key 'url'"},
      {"syntax_error.yaml", 3, 8, "YAML syntax error: "},
      {"bad_duration.yaml", 5, 16, "engines.default.pool.timeout: expected a duration such as 30s"},
      {"engines_list.yaml", 1, 10, "engines: expected a mapping"},
      {"top_level_typo.yaml", 1, 1,
       "top level: unknown key 'engine'; expected one of: plugins, engines"},
      {"nul_in_url.yaml", 3, 10, "engines.default.url: the value contains a NUL byte"},
      {"tab.yaml", 3, 1, "a tab character in the indentation (YAML indents with spaces only)"},
      {"two_documents.yaml", 5, 1, "a second YAML document (after '---')"},
      {"junk_after_document.yaml", 4, 1, "unreadable text after the first document"},
      {"password_twice.yaml", 4, 5,
       "engines.main.password: the url has a password too; give it in one place"},
  }));
  CAPTURE(c.file);
  const auto error = config_error(c.file);
  const std::string what = error.what();
  const auto where = (data_dir / c.file).string() + ":" + std::to_string(c.line) + ":" +
                     std::to_string(c.column) + ": ";
  CHECK_THAT(what, Catch::StartsWith(where));
  CHECK_THAT(what, Catch::Contains(c.message));
  CHECK(error.file() == (data_dir / c.file).string());
  CHECK(error.line() == c.line);
  CHECK(error.column() == c.column);
}

TEST_CASE("a missing or empty file is a ConfigError naming it", "[config]") {
  const auto missing = config_error("does_not_exist.yaml");
  CHECK_THAT(missing.what(), Catch::Contains("does_not_exist.yaml"));
  CHECK_THAT(missing.what(), Catch::Contains("cannot read"));
  const auto empty = config_error("empty.yaml");
  CHECK_THAT(empty.what(), Catch::Contains("empty.yaml"));
  CHECK_THAT(empty.what(), Catch::Contains("engines"));
  // A directory once read as an empty file.
  const auto directory = config_error(".");
  CHECK_THAT(directory.what(), Catch::Contains("is a directory, not a configuration file"));
  CHECK_THAT(directory.what(), !Catch::Contains("empty"));
}

// Dialect options used to be checked only at the first connect, as a ConfigError without a
// location; now the dialect plugin checks them when the engine is built.
TEST_CASE("bad dialect options are OptionErrors at file:line:column when the engine is built",
          "[config][options][sqlite]") {
  struct Case {
    std::string file;
    int line;
    int column;
    std::string option;
    std::string message;
  };
  const auto c = GENERATE(values<Case>({
      {"bad_option.yaml", 6, 21, "busy_timeout",
       "engines.default.options.busy_timeout: SQLite option busy_timeout='abc' is invalid"},
      {"unknown_query_option.yaml", 3, 10, "unknown_option",
       "engines.default.url: unknown SQLite option 'unknown_option'"},
  }));
  CAPTURE(c.file);
  const auto file = data_dir / c.file;
  try {
    (void)retort::engine_from_config(file, "default");
    FAIL("no OptionError");
  } catch (const retort::OptionError& e) {
    CHECK(e.option() == c.option);
    CHECK(e.file() == file.string());
    CHECK(e.line() == c.line);
    CHECK(e.column() == c.column);
    CHECK_THAT(e.what(), Catch::StartsWith(file.string() + ":" + std::to_string(c.line) + ":" +
                                           std::to_string(c.column) + ": " + c.message));
  }
  // Made in code, the same option fails as early, without a location.
  retort::EngineConfig config;
  config.url = "sqlite:///:memory:";
  config.options["busy_timeout"] = "abc";
  CHECK_THROWS_AS(retort::create_engine(config), retort::OptionError);
}

TEST_CASE("a password apart from the URL may hold any character", "[config][secrets]") {
  ScopedEnv pw("RETORT_TEST_CONFIG_PW", "s3cr#t/p@ss?");
  const auto config = retort::load_config(data_dir / "password.yaml");
  const auto& main = config.engine("main");
  CHECK(main.url == "postgresql://app@localhost/app");
  CHECK(main.password == "s3cr#t/p@ss?");

  // In the URL itself the '/' ends the host part: the error says which part and what to do.
  try {
    (void)retort::Url::parse("postgresql://app:s3cr#t/pw@localhost/app");
    FAIL("no ArgumentError");
  } catch (const retort::ArgumentError& e) {
    CHECK_THAT(e.what(), Catch::Contains("the port (after the host's ':')") &&
                             Catch::Contains("give the password apart from the URL") &&
                             !Catch::Contains("s3cr"));
  }

  // Against the real server: its password given apart from a URL without one.
  const char* server = std::getenv("RETORT_TEST_POSTGRES_URL");
  if (!server || !*server) return;
  auto url = retort::Url::parse(server);
  REQUIRE(url.password);
  retort::EngineConfig apart;
  apart.password = *url.password;
  url.password.reset();
  apart.url = url.render(false);
  auto engine = retort::create_engine(apart);
  CHECK(engine.connect().execute_sql("SELECT 1").scalar<std::int64_t>() == 1);
  CHECK_THAT(engine.url().render(), Catch::Contains(":***@"));
  // The same URL from its parts (Url::create), nothing percent-encoded.
  auto parts = retort::Url::create("postgresql", url.username, *apart.password, url.host, url.port,
                                   url.database);
  CHECK(retort::create_engine(parts).connect().execute_sql("SELECT 2").scalar<std::int64_t>() == 2);
}

TEST_CASE("secrets never appear in errors", "[config][secrets]") {
  const auto in_url = config_error("secret_in_url.yaml");
  CHECK_THAT(in_url.what(), !Catch::Contains("hunter2"));
  CHECK_THAT(in_url.what(), Catch::Contains("postgresql://app:***@localhost:54x2/app"));
  CHECK_THAT(in_url.what(), Catch::Contains("port"));
  CHECK(in_url.line() == 3);

  ScopedEnv secret("RETORT_TEST_CONFIG_SECRET", "s3cr3t-value");
  const auto from_env = config_error("secret_from_env.yaml");
  CHECK_THAT(from_env.what(), !Catch::Contains("s3cr3t-value"));
  CHECK_THAT(from_env.what(), Catch::Contains("${RETORT_TEST_CONFIG_SECRET}"));
  CHECK(from_env.line() == 5);
}

TEST_CASE("an unset variable fails only the engine that uses it", "[config][env]") {
  ScopedEnv unset("RETORT_TEST_UNSET_SECRET", std::nullopt);
  const auto config = retort::load_config(data_dir / "missing_env.yaml");
  CHECK(config.engine("fine").url == "sqlite://");
  try {
    (void)config.engine("needs_env");
    FAIL("no ConfigError for an unset variable");
  } catch (const retort::ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("RETORT_TEST_UNSET_SECRET is not set"));
    CHECK(e.line() == 3);
    CHECK(e.column() == 10);
  }
  ScopedEnv set("RETORT_TEST_UNSET_SECRET", "pw");
  CHECK(retort::load_config(data_dir / "missing_env.yaml").engine("needs_env").url ==
        "postgresql://app:pw@localhost/app");
}

TEST_CASE("an unknown engine name lists the known ones", "[config]") {
  const auto config = retort::load_config(CONFIG_EXAMPLE);
  CHECK_THROWS_WITH(config.engine("reporting"),
                    Catch::Contains("no engine 'reporting'") &&
                        Catch::Contains("known engines: default, memory, postgresql") &&
                        Catch::Contains("retort.yaml"));
}

TEST_CASE("the example configuration gives working engines", "[config][sqlite]") {
  const auto config = retort::load_config(CONFIG_EXAMPLE);
  CHECK(config.engine("default").url == "sqlite:///example.db");
  CHECK(config.plugin_paths.at(0) ==
        fs::path(CONFIG_EXAMPLE).parent_path().parent_path() / "build" / "plugins");

  auto engine = retort::engine_from_config(CONFIG_EXAMPLE, "memory");
  auto connection = engine.connect();
  connection.execute_ddl("CREATE TABLE t (x INTEGER)");
  const std::vector<retort::Value> params{42};
  connection.execute_sql("INSERT INTO t (x) VALUES (?)", params);
  connection.close();
  CHECK(engine.connect().execute_sql("SELECT x FROM t").scalar<std::int64_t>() == 42);

  if (!std::getenv("RETORT_TEST_POSTGRES_URL"))
    CHECK_THROWS_WITH(config.engine("postgresql"),
                      Catch::Contains("RETORT_TEST_POSTGRES_URL is not set"));
  CHECK_THROWS_AS(retort::engine_from_config(CONFIG_EXAMPLE, "nope"), retort::ConfigError);
}
