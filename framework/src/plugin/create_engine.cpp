#include <retort/core/error.hpp>
#include <retort/plugin/create_engine.hpp>
#include <retort/plugin/registry.hpp>

#include <utility>

namespace retort {

Engine create_engine(std::string_view url) { return create_engine(url, EngineConfig{}); }

Engine create_engine(std::string_view url, EngineConfig config) {
  config.url = std::string(url);
  return create_engine(config);
}

namespace {

// A refused dialect option, at the place it was written when that is known: an engine option
// wins over a URL query parameter of the same name (as the plugins merge them).
[[noreturn]] void locate(const OptionError& error, const EngineConfig& config) {
  const auto key = config.options.contains(error.option()) ? "options." + error.option() : "url";
  const auto at = config.locations.find(key);
  if (at == config.locations.end()) throw error;
  const auto& where = at->second;
  throw OptionError(error.option(), where.setting + ": " + error.what(), where.file, where.line,
                    where.column);
}

Engine build(Url url, const EngineConfig& config) {
  if (config.password) {
    if (url.password)
      throw ArgumentError("the URL " + url.render() +
                          " has a password and one is given apart from it: give it once");
    url.password = config.password;
  }
  auto& registry = PluginRegistry::instance();
  auto dialect = registry.dialect(url.scheme(), PluginSearch{config.plugin, config.plugin_paths});
  try {
    dialect->check_options(url, config.options);
  } catch (const OptionError& error) {
    locate(error, config);
  }

  auto pool_options = config.pool;
  if (pool_options.kind.empty()) pool_options.kind = dialect->default_pool(url);
  auto pool_plugin =
      registry.pool(pool_options.kind, PluginSearch{config.pool_plugin, config.plugin_paths});
  auto pool =
      pool_plugin->create_pool(pool_options, Engine::connect_factory(dialect, url, config.options));
  if (!pool) throw PluginError("pool plugin '" + pool_options.kind + "' made no pool");
  return Engine(std::move(dialect), std::move(pool), std::move(url),
                EngineOptions{config.echo, config.options});
}

} // namespace

Engine create_engine(const EngineConfig& config) { return build(Url::parse(config.url), config); }

Engine create_engine(const Url& url, const EngineConfig& config) { return build(url, config); }

} // namespace retort
