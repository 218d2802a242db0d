#include <retort/engine/nonblocking.hpp>

namespace retort {

// Out-of-line destructors are the key functions: vtables and typeinfo live in libretort only.
NonBlockingResult::~NonBlockingResult() = default;
NonBlockingConnection::~NonBlockingConnection() = default;

} // namespace retort
