#include "scalars.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace retort::config {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

} // namespace

std::string substitute_env(std::string_view text, std::string& missing, std::string& malformed) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, 3) == "$${") {
      out += "${";
      i += 3;
      continue;
    }
    if (text.substr(i, 2) != "${") {
      out += text[i++];
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      malformed = "'${' without a closing '}'";
      return {};
    }
    const auto inner = text.substr(i + 2, close - i - 2);
    const auto sep = inner.find(":-");
    const auto name = inner.substr(0, sep);
    if (!valid_name(name)) {
      malformed = "'${" + std::string(name) + "...}' is not a variable name";
      return {};
    }
    const char* value = std::getenv(std::string(name).c_str());
    if (sep != std::string_view::npos && (!value || !*value))
      out += inner.substr(sep + 2);
    else if (value)
      out += value;
    else if (missing.empty())
      missing = std::string(name);
    i = close + 1;
  }
  return out;
}

Parsed<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const std::string expected = "a duration such as 30s, 500ms, 2m, 1h or a number of seconds";
  std::size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
    ++digits;
  const auto number = text.substr(0, digits);
  const auto unit = text.substr(digits);
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc{} || end != number.data() + number.size())
    return {std::nullopt, expected};
  double factor = 0;
  if (unit.empty() || unit == "s")
    factor = 1000;
  else if (unit == "ms")
    factor = 1;
  else if (unit == "m")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else
    return {std::nullopt, expected};
  const double ms = std::round(value * factor);
  if (!std::isfinite(ms) || ms > 1e15) return {std::nullopt, expected};
  return {std::chrono::milliseconds(static_cast<long long>(ms)), {}};
}

Parsed<bool> parse_bool(std::string_view text) {
  const auto word = lower(text);
  if (word == "true" || word == "yes" || word == "on") return {true, {}};
  if (word == "false" || word == "no" || word == "off") return {false, {}};
  return {std::nullopt, "true or false"};
}

Parsed<int> parse_int(std::string_view text, int min, int max) {
  const std::string expected =
      "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return {std::nullopt, expected};
  if (value < min || value > max) return {std::nullopt, expected};
  return {value, {}};
}

} // namespace retort::config
