// A number for the calling thread, for bookkeeping that must tell threads apart cheaply.
#pragma once

#include <cstdint>

namespace retort::detail {

/// A number for the calling thread, unique among running threads: the address of an int of the
/// thread's own, so never 0 and never odd (callers may use 1 as a marker of their own).
std::uintptr_t this_thread_token() noexcept;

} // namespace retort::detail
