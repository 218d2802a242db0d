// The encoded primary key an object's state keeps (see encode_identity()). Every loaded object
// has one, so it is 16 bytes instead of std::string's 32: an integer key (a kind byte and 8
// bytes, the common case) and any key up to 15 bytes sit inline; a longer one (text, composite
// keys) goes to a heap block of its own. A key is written once per object and never grows in
// place, so its block keeps no capacity (4 bytes that would not fit in 16).
#pragma once

#include <retort/orm/detail/inline_text.hpp>

namespace retort::detail {

/// An identity-map key, inline up to 15 bytes; 16 bytes.
using IdentityKey = InlineText<16, HeapCapacity::exact>;

static_assert(sizeof(IdentityKey) == 16);

} // namespace retort::detail
