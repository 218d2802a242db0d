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

Engine create_engine(const EngineConfig& config) {
  auto url = Url::parse(config.url);
  auto& registry = PluginRegistry::instance();
  auto dialect = registry.dialect(url.scheme(), PluginSearch{config.plugin, config.plugin_paths});

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

} // namespace retort
