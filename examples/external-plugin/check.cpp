// Uses the external pool plugin through create_engine(), as an application would. Expects
// RETORT_PLUGIN_PATH to hold this build directory and the directory of the SQLite plugin.
#include <retort/core/log.hpp>
#include <retort/engine/connection.hpp>
#include <retort/plugin/create_engine.hpp>

#include <iostream>
#include <string>
#include <vector>

int main() {
  std::vector<std::string> lines;
  retort::set_log_sink([&](std::string_view line) { lines.emplace_back(line); });

  retort::EngineConfig config;
  config.pool.kind = "fifo-external";
  config.pool.size = 2;
  auto engine = retort::create_engine("sqlite://", config);
  for (int i = 0; i < 3; ++i) {
    auto connection = engine.connect();
    if (connection.execute_sql("SELECT 6 * 7").scalar<std::int64_t>() != 42) {
      std::cerr << "wrong result\n";
      return 1;
    }
  }
  retort::set_log_sink({});
  if (lines.size() != 3 || lines.back() != "fifo-external: checkout #3") {
    std::cerr << "expected 3 checkout lines from the external pool, got " << lines.size() << "\n";
    return 1;
  }
  std::cout << "external plugin OK: " << lines.back() << "\n";
  return 0;
}
