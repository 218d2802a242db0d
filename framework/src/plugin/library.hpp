// Internal to the plugin layer: loading one file without throwing, so that the registry can try
// several candidates and report every failure.
#pragma once

#include <retort/plugin/spi.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace retort::detail {

/// A dialect plugin loaded from a file, or why it could not be.
struct DialectLoad {
  std::shared_ptr<const DialectPlugin> plugin;
  std::vector<std::string> schemes;
  std::string failure;
};

/// A pool plugin loaded from a file, or why it could not be.
struct PoolLoad {
  std::shared_ptr<const PoolPlugin> plugin;
  std::string failure;
};

/// True when RETORT_DEBUG_PLUGINS asks for a trace of the search.
bool debug_plugins();
/// Prints one line of the search trace to stderr.
void debug_line(const std::string& line);

/// Why a dialect plugin serving `schemes` is refused for `scheme`.
std::string scheme_not_served(std::string_view scheme, const std::vector<std::string>& schemes);

DialectLoad load_dialect(const std::filesystem::path& file, std::string_view scheme);
PoolLoad load_pool(const std::filesystem::path& file);

} // namespace retort::detail
