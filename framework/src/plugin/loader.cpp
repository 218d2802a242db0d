#include "elf_manifest.hpp"
#include "library.hpp"

#include <retort/core/error.hpp>
#include <retort/plugin/basic_pool.hpp>
#include <retort/plugin/loader.hpp>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <system_error>
#include <utility>

namespace retort {

namespace {

using Library = boost::dll::shared_library;
namespace fs = std::filesystem;

// A plugin stays loaded until the process exits (DESIGN.md, "Plugins"), in every build: an
// exception, a Value or a Result made by its code may outlive its last Engine (the README's
// `int main() try {...} catch (const retort::Error&)`), and LeakSanitizer can symbolize only
// allocations of modules still mapped (TOOLCHAIN.md §6). dlclose() then never unmaps it.
boost::dll::load_mode::type load_mode() {
  return boost::dll::load_mode::rtld_now | static_cast<boost::dll::load_mode::type>(RTLD_NODELETE);
}

// Boost.DLL's error codes are fixed (EBADF/ESPIPE); the real reason is dlerror's text, which it
// embeds in what(). The text starts with the path, which the caller already prints.
std::string system_loader_reason(const std::system_error& error, const fs::path& file) {
  std::string what = error.what();
  static constexpr std::string_view marker = "dlerror system message: ";
  const auto from = what.find(marker);
  const auto to = what.rfind("): ");
  if (from != std::string::npos && to != std::string::npos && to > from)
    what = what.substr(from + marker.size(), to - from - marker.size());
  const auto prefix = file.string() + ": ";
  if (what.starts_with(prefix)) what.erase(0, prefix.size());
  return what;
}

const char* kind_name(PluginKind kind) {
  switch (kind) {
  case PluginKind::dialect: return "dialect";
  case PluginKind::pool: return "pool";
  }
  return "unknown";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

// Why `manifest` does not fit this host and `kind`, or nothing.
std::optional<std::string> mismatch(const PluginManifest& manifest, PluginKind kind) {
  if (manifest.abi_version != plugin_abi_version)
    return "ABI version " + std::to_string(manifest.abi_version) + " != host " +
           std::to_string(plugin_abi_version) + " (rebuild the plugin)";
  if (manifest.abi_tag != RETORT_ABI_TAG)
    return "ABI tag " + manifest.abi_tag + " != host " + RETORT_ABI_TAG;
  if (manifest.kind != kind)
    return std::string("kind mismatch: the file is a ") + kind_name(manifest.kind) + " plugin, a " +
           kind_name(kind) + " plugin was asked for";
  return std::nullopt;
}

// Reads and checks the manifest from the file, and only then hands the file to the system
// loader; returns the library, or sets `failure`.
std::shared_ptr<Library> open_checked(const fs::path& file, PluginKind kind,
                                      PluginManifest& manifest, std::string& failure,
                                      std::string_view scheme = {}) {
  auto read = detail::read_manifest(file);
  if (!read.manifest) {
    failure = std::move(read.failure);
    return nullptr;
  }
  manifest = std::move(*read.manifest);
  if (auto why = mismatch(manifest, kind)) {
    failure = std::move(*why);
    return nullptr;
  }
  if (kind == PluginKind::dialect && std::find(manifest.schemes.begin(), manifest.schemes.end(),
                                               scheme) == manifest.schemes.end()) {
    failure = detail::scheme_not_served(scheme, manifest.schemes);
    return nullptr;
  }
  auto library = std::make_shared<Library>();
  try {
    library->load(file, load_mode());
  } catch (const std::system_error& error) {
    failure = system_loader_reason(error, file);
    return nullptr;
  }
  return library;
}

template <typename Factory>
Factory* entry_point(Library& library, const char* alias, std::string& failure) {
  if (!library.has(alias)) {
    failure = std::string("missing entry point ") + alias;
    return nullptr;
  }
  return &library.get_alias<Factory>(alias);
}

template <typename Made, typename Factory>
std::unique_ptr<Made> call(Factory* factory, std::string& failure) {
  try {
    auto made = factory();
    if (!made) failure = "the factory returned nothing";
    return made;
  } catch (const std::exception& error) {
    failure = std::string("the factory threw: ") + error.what();
  } catch (...) {
    failure = "the factory threw an unknown exception";
  }
  return nullptr;
}

void trace(const fs::path& file, const std::string& outcome) {
  if (detail::debug_plugins()) detail::debug_line("  " + file.string() + ": " + outcome);
}

void append_unique(std::vector<fs::path>& dirs, const fs::path& dir) {
  if (dir.empty()) return;
  const auto normal = fs::absolute(dir).lexically_normal();
  if (std::find(dirs.begin(), dirs.end(), normal) == dirs.end()) dirs.push_back(normal);
}

} // namespace

namespace detail {

bool debug_plugins() {
  const char* value = std::getenv("RETORT_DEBUG_PLUGINS");
  return value && *value && std::string_view(value) != "0";
}

void debug_line(const std::string& line) { std::cerr << "retort plugins: " << line << std::endl; }

std::string scheme_not_served(std::string_view scheme, const std::vector<std::string>& schemes) {
  return "scheme not served: " + std::string(scheme) + " (serves " + join(schemes) + ")";
}

DialectLoad load_dialect(const fs::path& file, std::string_view scheme) {
  DialectLoad out;
  PluginManifest manifest;
  auto library = open_checked(file, PluginKind::dialect, manifest, out.failure, scheme);
  out.schemes = manifest.schemes;
  if (library) {
    if (auto factory =
            entry_point<DialectFactory>(*library, "retort_create_dialect", out.failure)) {
      if (auto made = call<DialectPlugin>(factory, out.failure)) out.plugin = std::move(made);
    }
  }
  trace(file, out.plugin ? "loaded dialect plugin " + manifest.name + " " + manifest.version
                         : out.failure);
  return out;
}

PoolLoad load_pool(const fs::path& file) {
  PoolLoad out;
  PluginManifest manifest;
  auto library = open_checked(file, PluginKind::pool, manifest, out.failure);
  if (library) {
    if (auto factory = entry_point<PoolFactory>(*library, "retort_create_pool", out.failure)) {
      if (auto made = call<PoolPlugin>(factory, out.failure)) out.plugin = std::move(made);
    }
  }
  trace(file,
        out.plugin ? "loaded pool plugin " + manifest.name + " " + manifest.version : out.failure);
  return out;
}

} // namespace detail

std::string plugin_file_name(PluginKind kind, std::string_view name) {
  return std::string("retort-") + kind_name(kind) + "-" + std::string(name) + ".so";
}

std::string dialect_name_of_scheme(std::string_view scheme) {
  return std::string(scheme.substr(0, scheme.find('+')));
}

std::vector<fs::path> plugin_directories(const PluginSearch& search) {
  std::vector<fs::path> dirs;
  for (const auto& dir : search.paths)
    append_unique(dirs, dir);
  if (const char* env = std::getenv("RETORT_PLUGIN_PATH")) {
    std::string_view rest = env;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      append_unique(dirs, fs::path(rest.substr(0, colon)));
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
  }
#ifdef RETORT_PLUGIN_INSTALL_DIR
  append_unique(dirs, fs::path(RETORT_PLUGIN_INSTALL_DIR));
#endif
  std::error_code ignored;
  const auto self = boost::dll::this_line_location(ignored);
  if (!self.empty()) {
    append_unique(dirs, self.parent_path());
    append_unique(dirs, self.parent_path() / "retort" / "plugins");
  }
  return dirs;
}

std::shared_ptr<const DialectPlugin> load_dialect_plugin(const fs::path& file,
                                                         std::string_view scheme) {
  auto loaded = detail::load_dialect(file, scheme);
  if (!loaded.plugin)
    throw PluginError("cannot load dialect plugin " + file.string() + " for URL scheme '" +
                      std::string(scheme) + "': " + loaded.failure);
  return loaded.plugin;
}

PluginManifest read_plugin_manifest(const fs::path& file) {
  auto read = detail::read_manifest(file);
  if (!read.manifest)
    throw PluginError("cannot read plugin " + file.string() + ": " + read.failure);
  return std::move(*read.manifest);
}

std::shared_ptr<const PoolPlugin> load_pool_plugin(const fs::path& file) {
  auto loaded = detail::load_pool(file);
  if (!loaded.plugin)
    throw PluginError("cannot load pool plugin " + file.string() + ": " + loaded.failure);
  return loaded.plugin;
}

} // namespace retort
