#include "library.hpp"

#include <retort/core/error.hpp>
#include <retort/plugin/registry.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

namespace retort {

namespace {

namespace fs = std::filesystem;

struct StaticDialect {
  std::string name;
  std::vector<std::string> schemes;
  DialectMaker make;
  std::shared_ptr<const DialectPlugin> instance;
};

struct StaticPool {
  PoolMaker make;
  std::shared_ptr<const PoolPlugin> instance;
};

// Loaded plugins are kept for the life of the process, as their libraries are (loader.cpp): a
// file is loaded and its factory run once.
struct CachedDialect {
  std::shared_ptr<const DialectPlugin> plugin;
  std::vector<std::string> schemes;
};

std::string cache_key(const fs::path& file) {
  std::error_code ignored;
  auto canonical = fs::weakly_canonical(file, ignored);
  return (canonical.empty() ? file : canonical).string();
}

bool serves(const std::vector<std::string>& schemes, std::string_view scheme) {
  return std::find(schemes.begin(), schemes.end(), scheme) != schemes.end();
}

// The candidate files for a plugin: the explicit file alone, or one per search directory.
std::vector<fs::path> candidates(PluginKind kind, std::string_view name,
                                 const PluginSearch& search) {
  if (!search.explicit_path.empty()) return {fs::absolute(search.explicit_path)};
  std::vector<fs::path> files;
  for (const auto& dir : plugin_directories(search))
    files.push_back(dir / plugin_file_name(kind, name));
  return files;
}

// One line per path tried, so that a user can see where Retort looked and why each one failed.
class Attempts {
public:
  void add(const fs::path& file, std::string why) { lines_ += "\n  " + file.string() + ": " + why; }
  void not_found(const fs::path& file) {
    add(file, "not found");
    if (detail::debug_plugins()) detail::debug_line("  " + file.string() + ": not found");
  }
  [[noreturn]] void fail(const std::string& wanted) const {
    throw PluginError("no usable " + wanted + "; tried:" + lines_ +
                      "\n(search order: the configuration's plugin path or plugins.paths, "
                      "RETORT_PLUGIN_PATH, the installed plugin directory, the directory of "
                      "libretort; RETORT_DEBUG_PLUGINS=1 traces the search)");
  }

private:
  std::string lines_;
};

bool exists_as_entry(const fs::path& file) {
  std::error_code ignored;
  return fs::exists(fs::symlink_status(file, ignored));
}

} // namespace

struct PluginRegistry::State {
  std::mutex mutex;
  std::vector<StaticDialect> static_dialects;
  std::map<std::string, StaticPool, std::less<>> static_pools;
  std::map<std::string, CachedDialect> dialect_files;
  std::map<std::string, std::shared_ptr<const PoolPlugin>> pool_files;
};

PluginRegistry::PluginRegistry() : state_(std::make_unique<State>()) {}
PluginRegistry::~PluginRegistry() = default;

PluginRegistry& PluginRegistry::instance() {
  static PluginRegistry registry;
  return registry;
}

void PluginRegistry::register_dialect(std::string name, std::vector<std::string> schemes,
                                      DialectMaker make) {
  if (!make) throw ArgumentError("register_dialect(" + name + "): no factory");
  std::lock_guard lock(state_->mutex);
  auto& list = state_->static_dialects;
  std::erase_if(list, [&](const StaticDialect& d) { return d.name == name; });
  list.push_back(StaticDialect{std::move(name), std::move(schemes), std::move(make), nullptr});
}

void PluginRegistry::register_pool(std::string name, PoolMaker make) {
  if (!make) throw ArgumentError("register_pool(" + name + "): no factory");
  std::lock_guard lock(state_->mutex);
  state_->static_pools[std::move(name)] = StaticPool{std::move(make), nullptr};
}

void PluginRegistry::unregister_dialect(std::string_view name) {
  std::lock_guard lock(state_->mutex);
  std::erase_if(state_->static_dialects, [&](const StaticDialect& d) { return d.name == name; });
}

void PluginRegistry::unregister_pool(std::string_view name) {
  std::lock_guard lock(state_->mutex);
  if (auto it = state_->static_pools.find(name); it != state_->static_pools.end())
    state_->static_pools.erase(it);
}

std::shared_ptr<const DialectPlugin> PluginRegistry::dialect(std::string_view scheme,
                                                             const PluginSearch& search) {
  const auto name = dialect_name_of_scheme(scheme);
  const auto wanted = "dialect plugin '" + name + "' for URL scheme '" + std::string(scheme) + "'";
  // Held for the whole search so that two threads never load the same file twice.
  std::lock_guard lock(state_->mutex);
  if (detail::debug_plugins()) detail::debug_line("looking for " + wanted);

  for (auto& entry : state_->static_dialects) {
    if (!serves(entry.schemes, scheme)) continue;
    if (!entry.instance) entry.instance = entry.make();
    if (!entry.instance) throw PluginError("static " + wanted + " made no plugin");
    if (detail::debug_plugins()) detail::debug_line("  statically registered '" + entry.name + "'");
    return entry.instance;
  }

  Attempts attempts;
  for (const auto& file : candidates(PluginKind::dialect, name, search)) {
    const auto key = cache_key(file);
    if (auto it = state_->dialect_files.find(key); it != state_->dialect_files.end()) {
      if (serves(it->second.schemes, scheme)) {
        if (detail::debug_plugins()) detail::debug_line("  " + file.string() + ": already loaded");
        return it->second.plugin;
      }
      attempts.add(file, detail::scheme_not_served(scheme, it->second.schemes));
      continue;
    }
    if (!exists_as_entry(file)) {
      attempts.not_found(file);
      continue;
    }
    auto loaded = detail::load_dialect(file, scheme);
    if (!loaded.plugin) {
      attempts.add(file, loaded.failure);
      continue;
    }
    state_->dialect_files[key] = CachedDialect{loaded.plugin, std::move(loaded.schemes)};
    return loaded.plugin;
  }
  attempts.fail(wanted);
}

std::shared_ptr<const PoolPlugin> PluginRegistry::pool(std::string_view name,
                                                       const PluginSearch& search) {
  const auto wanted = "pool plugin '" + std::string(name) + "'";
  std::lock_guard lock(state_->mutex);
  if (detail::debug_plugins()) detail::debug_line("looking for " + wanted);

  if (auto it = state_->static_pools.find(name); it != state_->static_pools.end()) {
    auto& entry = it->second;
    if (!entry.instance) entry.instance = entry.make();
    if (!entry.instance) throw PluginError("static " + wanted + " made no plugin");
    if (detail::debug_plugins()) detail::debug_line("  statically registered");
    return entry.instance;
  }

  Attempts attempts;
  for (const auto& file : candidates(PluginKind::pool, name, search)) {
    const auto key = cache_key(file);
    if (auto it = state_->pool_files.find(key); it != state_->pool_files.end()) {
      if (detail::debug_plugins()) detail::debug_line("  " + file.string() + ": already loaded");
      return it->second;
    }
    if (!exists_as_entry(file)) {
      attempts.not_found(file);
      continue;
    }
    auto loaded = detail::load_pool(file);
    if (!loaded.plugin) {
      attempts.add(file, loaded.failure);
      continue;
    }
    state_->pool_files[key] = loaded.plugin;
    return loaded.plugin;
  }
  attempts.fail(wanted);
}

} // namespace retort
