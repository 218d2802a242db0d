// YAML configuration (DESIGN.md, "Configuration"): plugin search paths and named engines, read
// strictly — an unknown key, a wrong type or a duplicate key is an error at file:line:column.
#pragma once

#include <retort/core/error.hpp>
#include <retort/core/export.hpp>
#include <retort/engine/engine.hpp>
#include <retort/plugin/engine_config.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace retort {

/// A parsed configuration file.
struct RETORT_API Configuration {
  /// The file it was read from.
  std::filesystem::path file;
  /// `plugins.paths`, made absolute relative to the file's directory.
  std::vector<std::filesystem::path> plugin_paths;
  /// The engines by name; each already carries plugin_paths.
  std::map<std::string, EngineConfig, std::less<>> engines;
  /// Engines that use an unset environment variable: the error engine(name) throws for them.
  std::map<std::string, ConfigError, std::less<>> unresolved;

  /// The engine called `name`; throws ConfigError listing the known names when there is none.
  const EngineConfig& engine(std::string_view name) const;
};

/// Reads and validates `path`; `${VAR}` and `${VAR:-default}` in values are taken from the
/// environment. Throws ConfigError with file:line:column; secrets never appear in messages.
RETORT_API Configuration load_config(const std::filesystem::path& path);

/// An Engine for the engine called `name` in the configuration file `path`.
RETORT_API Engine engine_from_config(const std::filesystem::path& path, std::string_view name);

} // namespace retort
