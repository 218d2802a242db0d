// <retort/retort.hpp> is the whole public API: this file includes nothing else of Retort and
// uses a part of every public header it promises, so a header left out (or a type left
// incomplete, as SqlDialect once was) fails to compile here.
#include <retort/retort.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

TEST_CASE("retort/retort.hpp alone gives the whole public API", "[plugins][headers]") {
  auto engine = retort::create_engine("sqlite:///:memory:");
  CHECK(engine.dialect().name() == "sqlite"); // sql/dialect.hpp
  CHECK(engine.dialect().max_bound_parameters() > 0);
  CHECK(engine.statement_cache().capacity() > 0); // sql/statement_cache.hpp
  CHECK(engine.pool().status().checked_out == 0); // engine/pool.hpp
  CHECK(retort::plugin_file_name(retort::PluginKind::pool, "queue") ==
        "retort-pool-queue.so");         // plugin/loader.hpp
  CHECK(retort::plugin_abi_version > 0); // plugin/spi.hpp
  CHECK_THROWS_AS(retort::PluginRegistry::instance().pool("no-such-pool-kind"),
                  retort::PluginError); // plugin/registry.hpp
  std::vector<std::string> lines;
  retort::set_log_sink([&](std::string_view line) { lines.emplace_back(line); }); // core/log.hpp
  engine.set_echo(true);
  engine.connect().execute_sql("SELECT 1");
  retort::set_log_sink({});
  CHECK_FALSE(lines.empty());
  static_assert(std::is_base_of_v<retort::Pool, retort::BasicPool>); // plugin/basic_pool.hpp
}
