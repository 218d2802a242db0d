// create_engine(): the usual way to get an Engine, as in SQLAlchemy. The URL's scheme finds the
// dialect plugin, the pool options (or the dialect's default) the pool plugin.
#pragma once

#include <retort/core/export.hpp>
#include <retort/engine/engine.hpp>
#include <retort/plugin/engine_config.hpp>

#include <string_view>

namespace retort {

/// An engine for `url` with default pool and options; throws ArgumentError or PluginError.
RETORT_API Engine create_engine(std::string_view url);
/// An engine for `url` (which replaces config.url) with the settings of `config`.
RETORT_API Engine create_engine(std::string_view url, EngineConfig config);
/// An engine for config.url with the settings of `config`. A dialect option the plugin refuses
/// is an OptionError now (not at first connect), at its file:line:column when from YAML.
RETORT_API Engine create_engine(const EngineConfig& config);
/// An engine for a URL built from parts (Url::create), with the settings of `config`.
RETORT_API Engine create_engine(const Url& url, const EngineConfig& config = {});

} // namespace retort
