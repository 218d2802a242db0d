// Test helpers: the SQLite plugin loaded straight from the build tree (no plugin loader), and
// temporary directories for database files.
#pragma once

#include <retort/core/options.hpp>
#include <retort/core/url.hpp>
#include <retort/plugin/spi.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace retort::test {

/// Path of the built plugin: $RETORT_PLUGIN_PATH/retort-dialect-sqlite.so.
std::filesystem::path sqlite_plugin_path();

/// The plugin object, loaded once per process and kept until exit.
const DialectPlugin& sqlite_plugin();

/// A connection to `url` (e.g. "sqlite://" or "sqlite:////tmp/x.db").
std::unique_ptr<DriverConnection> connect(const std::string& url, const Options& options = {});

/// A fresh directory removed with everything in it when the object dies.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// The directory.
  const std::filesystem::path& path() const { return path_; }
  /// `sqlite:///` URL of file `name` inside the directory (absolute path).
  std::string url(const std::string& name) const { return "sqlite:///" + (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

} // namespace retort::test
