#include "sqlite_plugin.hpp"
#include "direct_plugin.hpp"

#include <stdlib.h>

#include <stdexcept>

namespace retort::test {

std::filesystem::path sqlite_plugin_path() { return dialect_plugin_path("sqlite"); }

const DialectPlugin& sqlite_plugin() { return load_dialect_directly("sqlite"); }

std::unique_ptr<DriverConnection> connect(const std::string& url, const Options& options) {
  return sqlite_plugin().connect(Url::parse(url), options);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "retort-sqlite-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

} // namespace retort::test
