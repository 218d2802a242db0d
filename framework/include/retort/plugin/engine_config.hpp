// Everything needed to build an engine, independent of where it came from (code or YAML).
#pragma once

#include <retort/core/options.hpp>
#include <retort/engine/pool.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace retort {

/// Where a setting was written, so that an error found later (a dialect option the plugin
/// refuses) can name it: "engines.default.options.busy_timeout" at file:line:column.
struct SettingLocation {
  /// The setting's path in the file, e.g. "engines.default.url".
  std::string setting;
  std::string file;
  int line = 0;
  int column = 0;
};

/// An engine specification: URL, echo, pool settings, dialect options and plugin locations.
struct EngineConfig {
  /// The database URL, e.g. "sqlite:///app.db" or "postgresql://app:${PW}@host/app".
  std::string url;
  /// A password given apart from the URL (SQLAlchemy's URL.create): any characters, unencoded.
  /// It is the URL's password; a URL with a password of its own is refused.
  std::optional<std::string> password;
  /// Log every statement (secrets masked).
  bool echo = false;
  /// Pool settings; an empty `pool.kind` takes the dialect plugin's default.
  PoolOptions pool;
  /// Options handed to the dialect plugin's connect().
  Options options;
  /// An explicit dialect plugin file; when set, the only file tried for the dialect.
  std::filesystem::path plugin;
  /// An explicit pool plugin file; when set, the only file tried for the pool.
  std::filesystem::path pool_plugin;
  /// Directories searched before RETORT_PLUGIN_PATH and the installed plugin directory.
  std::vector<std::filesystem::path> plugin_paths;
  /// Where "url" and each "options.<name>" were written (from YAML); empty for code.
  std::map<std::string, SettingLocation, std::less<>> locations;
};

} // namespace retort
