// The process-wide plugin registry: statically registered plugins (tests, static builds) and a
// cache of plugins loaded from files, looked up by URL scheme (dialects) or name (pools).
#pragma once

#include <retort/core/export.hpp>
#include <retort/plugin/loader.hpp>
#include <retort/plugin/spi.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace retort {

/// Makes a statically registered dialect plugin.
using DialectMaker = std::function<std::unique_ptr<DialectPlugin>()>;
/// Makes a statically registered pool plugin.
using PoolMaker = std::function<std::unique_ptr<PoolPlugin>()>;

/// Finds plugins: static registrations first, then files along the discovery path (loader.hpp).
/// Thread-safe.
class RETORT_API PluginRegistry {
public:
  /// The process-wide registry.
  static PluginRegistry& instance();

  /// Registers a dialect serving `schemes`; it wins over any file for those schemes.
  void register_dialect(std::string name, std::vector<std::string> schemes, DialectMaker make);
  /// Registers a pool kind; it wins over any file of that name.
  void register_pool(std::string name, PoolMaker make);
  /// Removes a static dialect registration (plugins already handed out stay valid).
  void unregister_dialect(std::string_view name);
  /// Removes a static pool registration.
  void unregister_pool(std::string_view name);

  /// The dialect plugin serving the URL `scheme` ("sqlite", "postgresql+libpq"); throws
  /// PluginError naming the plugin, every path tried and why each failed.
  std::shared_ptr<const DialectPlugin> dialect(std::string_view scheme,
                                               const PluginSearch& search = {});
  /// The pool plugin called `name` ("queue", "null", "static", ...); throws PluginError.
  std::shared_ptr<const PoolPlugin> pool(std::string_view name, const PluginSearch& search = {});

  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

private:
  PluginRegistry();
  ~PluginRegistry();
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace retort
