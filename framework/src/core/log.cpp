#include <retort/core/log.hpp>

#include <cstdio>
#include <mutex>

namespace retort {

namespace {

std::mutex sink_mutex;
LogSink& current_sink() {
  static LogSink sink;
  return sink;
}

} // namespace

void set_log_sink(LogSink sink) {
  std::lock_guard lock(sink_mutex);
  current_sink() = std::move(sink);
}

void log_line(std::string_view line) {
  std::lock_guard lock(sink_mutex);
  if (current_sink()) {
    current_sink()(line);
    return;
  }
  std::fprintf(stderr, "retort: %.*s\n", static_cast<int>(line.size()), line.data());
}

} // namespace retort
