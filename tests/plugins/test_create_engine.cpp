// create_engine(): scheme -> dialect plugin, pool kind (explicit or the dialect's default) ->
// pool plugin, assembled into an Engine.
#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/plugin/create_engine.hpp>
#include <retort/sql/dialect.hpp>

#include <catch2/catch.hpp>

namespace fs = std::filesystem;

namespace {

const fs::path module_dir = TEST_MODULE_DIR;

retort::EngineConfig fake_config() {
  retort::EngineConfig config;
  config.plugin_paths = {module_dir};
  return config;
}

} // namespace

TEST_CASE("create_engine picks the dialect's default pool", "[plugins][create_engine]") {
  // The fake dialect, like SQLite, keeps a memory database in a static pool.
  auto quick = fake_config();
  quick.pool.timeout = std::chrono::milliseconds(100);
  auto memory = retort::create_engine("fake://", quick);
  CHECK(memory.dialect().name() == "fake-1");
  CHECK(memory.url().scheme() == "fake");
  { auto a = memory.connect(); }
  auto b = memory.connect();
  CHECK(memory.pool().status().opened == 1);
  CHECK_THROWS_AS(memory.connect(), retort::PoolTimeout); // static: one holder at a time

  auto file = retort::create_engine("fake+one:///some.db", fake_config());
  auto c = file.connect();
  auto d = file.connect(); // queue: more than one connection
  CHECK(file.pool().status().checked_out == 2);
}

TEST_CASE("create_engine honours the pool options and echo", "[plugins][create_engine]") {
  auto config = fake_config();
  config.url = "fake:///x.db";
  config.echo = true;
  config.pool.kind = "null";
  auto engine = retort::create_engine(config);
  CHECK(engine.echo());
  { auto c = engine.connect(); }
  CHECK(engine.pool().status().idle == 0); // null pool closes on return
}

TEST_CASE("create_engine reports bad URLs and missing plugins", "[plugins][create_engine]") {
  CHECK_THROWS_AS(retort::create_engine("not a url"), retort::ArgumentError);
  CHECK_THROWS_WITH(retort::create_engine("nosuchdb://u:secret@h/db"),
                    Catch::Contains("dialect plugin 'nosuchdb'") && !Catch::Contains("secret"));
  auto config = fake_config();
  config.pool.kind = "nosuchpool";
  CHECK_THROWS_WITH(retort::create_engine("fake:///x.db", config),
                    Catch::Contains("pool plugin 'nosuchpool'") &&
                        Catch::Contains("retort-pool-nosuchpool.so: not found"));
}

TEST_CASE("create_engine over the real SQLite plugin", "[plugins][create_engine][sqlite]") {
  auto engine = retort::create_engine("sqlite://");
  CHECK(engine.dialect().name() == "sqlite");
  CHECK(engine.connect().execute_sql("SELECT 40 + 2").scalar<std::int64_t>() == 42);
}
