// Free-form key/value options handed to dialects and pools (from YAML or from code).
#pragma once

#include <map>
#include <string>

namespace retort {

/// Dialect or pool options by name; values are the YAML scalars as written.
using Options = std::map<std::string, std::string>;

} // namespace retort
