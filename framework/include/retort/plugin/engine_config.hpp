// Everything needed to build an engine, independent of where it came from (code or YAML).
#pragma once

#include <retort/core/options.hpp>
#include <retort/engine/pool.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace retort {

/// An engine specification: URL, echo, pool settings, dialect options and plugin locations.
struct EngineConfig {
  /// The database URL, e.g. "sqlite:///app.db" or "postgresql://app:${PW}@host/app".
  std::string url;
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
};

} // namespace retort
