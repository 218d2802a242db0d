// The conformance suite's one knob: which database it runs on. The same test cases run on every
// dialect plugin; meson registers this executable once per backend (RETORT_TEST_BACKEND).
#pragma once

#include <retort/core/log.hpp>
#include <retort/retort.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace conformance {

/// "sqlite_memory", "sqlite_file" or "postgresql".
inline std::string backend() {
  const char* name = std::getenv("RETORT_TEST_BACKEND");
  return name ? name : "sqlite_memory";
}

/// True for the backends that are SQLite.
inline bool is_sqlite() { return backend().rfind("sqlite", 0) == 0; }

inline std::string backend_url() {
  const std::string name = backend();
  if (name == "sqlite_memory") return "sqlite:///:memory:";
  if (name == "sqlite_file") {
    static const std::string path = (std::filesystem::temp_directory_path() /
                                     ("retort-conformance-" + std::to_string(::getpid()) + ".db"))
                                        .string();
    static const struct Cleanup {
      ~Cleanup() { std::filesystem::remove(path); }
    } cleanup;
    std::filesystem::remove(path);
    return "sqlite:///" + path;
  }
  if (name == "postgresql") {
    const char* url = std::getenv("RETORT_TEST_POSTGRES_URL");
    if (url != nullptr && *url != '\0') return url;
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") {
      std::fprintf(stderr, "FATAL: CI=true but RETORT_TEST_POSTGRES_URL is not set: the "
                           "PostgreSQL conformance suite must run in CI\n");
      std::exit(1);
    }
    std::fprintf(stderr, "\n*** WARNING: RETORT_TEST_POSTGRES_URL is not set: the PostgreSQL "
                         "conformance suite is SKIPPED (run tests/pg-server.sh start) ***\n\n");
    std::exit(77); // meson's "skipped"
  }
  std::fprintf(stderr, "unknown RETORT_TEST_BACKEND '%s'\n", name.c_str());
  std::exit(1);
}

/// The engine every test of this process uses.
inline retort::Engine& engine() {
  static retort::Engine instance = retort::create_engine(backend_url());
  return instance;
}

/// Counts the statements an engine logs while alive (echo on, sink installed).
class StatementCounter {
public:
  StatementCounter() {
    engine().set_echo(true);
    retort::set_log_sink([this](std::string_view line) {
      // echo logs each statement, then its parameters in [...]; count the statements only,
      // not the transaction control around them.
      if (line.empty() || line.front() == '[') return;
      if (line.rfind("-- pipeline", 0) == 0) {
        ++pipelines_;
        return;
      }
      if (line == "BEGIN" || line == "COMMIT" || line == "ROLLBACK") return;
      statements_.emplace_back(line);
    });
  }
  ~StatementCounter() {
    engine().set_echo(false);
    retort::set_log_sink({});
  }
  std::size_t count() const { return statements_.size(); }
  /// Pipelines sent (several statements in one round trip).
  std::size_t pipelines() const { return pipelines_; }
  const std::vector<std::string>& statements() const { return statements_; }
  void clear() { statements_.clear(); }

private:
  std::vector<std::string> statements_;
  std::size_t pipelines_ = 0;
};

} // namespace conformance
