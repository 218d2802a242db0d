// Logging of emitted SQL ("echo" in SQLAlchemy). Messages go to a replaceable sink so that
// tests can count statements and applications can route them to their own logger.
#pragma once

#include <retort/core/export.hpp>

#include <functional>
#include <string_view>

namespace retort {

/// Receives one log line (no trailing newline).
using LogSink = std::function<void(std::string_view line)>;

/// Installs the process-wide sink for echo output; an empty function restores stderr.
RETORT_API void set_log_sink(LogSink sink);
/// Writes one line to the current sink.
RETORT_API void log_line(std::string_view line);

} // namespace retort
