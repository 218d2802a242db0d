// Loads a dialect plugin straight from RETORT_PLUGIN_PATH with Boost.DLL, without Retort's
// plugin loader: the driver-level suites test a plugin on its own, below create_engine().
#pragma once

#include <retort/plugin/spi.hpp>

#include <boost/dll/import.hpp>
#include <boost/dll/shared_library_load_mode.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace retort::test {

/// build/plugins/retort-dialect-<name>.so, from RETORT_PLUGIN_PATH.
inline std::filesystem::path dialect_plugin_path(const std::string& name) {
  const char* dir = std::getenv("RETORT_PLUGIN_PATH");
  if (dir == nullptr) throw std::runtime_error("RETORT_PLUGIN_PATH is not set");
  return std::filesystem::path(dir) / ("retort-dialect-" + name + ".so");
}

/// The dialect plugin `name`, loaded once per process and kept loaded until exit.
inline const DialectPlugin& load_dialect_directly(const std::string& name) {
  // The factory keeps the library loaded, so it is declared first and destroyed last.
  struct Loaded {
    std::function<DialectFactory> factory;
    std::unique_ptr<DialectPlugin> plugin;
  };
#ifdef RETORT_SANITIZE
  // Keeps the module mapped at exit so that LSan can symbolize leaks inside it.
  const auto mode =
      boost::dll::load_mode::rtld_now | static_cast<boost::dll::load_mode::type>(RTLD_NODELETE);
#else
  const auto mode = boost::dll::load_mode::rtld_now;
#endif
  static Loaded loaded = [&] {
    Loaded l;
    l.factory = boost::dll::import_alias<DialectFactory>(dialect_plugin_path(name),
                                                         "retort_create_dialect", mode);
    l.plugin = l.factory();
    return l;
  }();
  return *loaded.plugin;
}

} // namespace retort::test
