#include "core/thread_token.hpp"

namespace retort::detail {

std::uintptr_t this_thread_token() noexcept {
  static thread_local int token;
  return reinterpret_cast<std::uintptr_t>(&token);
}

} // namespace retort::detail
