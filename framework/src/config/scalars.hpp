// Internal to the config layer: environment substitution and typed reading of YAML scalars.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace retort::config {

/// The result of reading one scalar: the value, or what was expected instead.
template <typename T> struct Parsed {
  std::optional<T> value;
  std::string expected;
};

/// Replaces ${NAME} and ${NAME:-default} from the environment ("$${" is a literal "${").
/// Returns the name of an unset variable without default in `missing` (value left empty).
std::string substitute_env(std::string_view text, std::string& missing, std::string& malformed);

/// "30s", "500ms", "2m", "1h", or a bare number of seconds ("1.5").
Parsed<std::chrono::milliseconds> parse_duration(std::string_view text);
/// true/false, yes/no, on/off (any case).
Parsed<bool> parse_bool(std::string_view text);
/// A decimal integer within [min, max].
Parsed<int> parse_int(std::string_view text, int min, int max);

} // namespace retort::config
