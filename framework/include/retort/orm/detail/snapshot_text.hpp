// The snapshot of a std::string member. Snapshots live in the object's control block (see
// TrackedDeleter), so text short enough to sit inline there costs no allocation of its own:
// copying two ~25-character strings into std::string snapshots was two heap blocks per loaded
// object, and a third of the ORM's extra allocations. Longer text goes to the heap as before,
// to a block that keeps its capacity: every flush writes the changed members' new values over
// their snapshots. The full text is kept, not a hash: rollback restores it, and a hash could
// miss a change.
#pragma once

#include <retort/orm/detail/inline_text.hpp>

#include <string>

namespace retort::detail {

/// A copy of a string member, inline up to 27 bytes; 28 bytes. Most names, codes and short
/// descriptions fit, and 28 bytes with the length in the last byte keep two text snapshots
/// and three integers within 68 bytes.
using SnapshotText = InlineText<28, HeapCapacity::kept>;

static_assert(sizeof(SnapshotText) == 28);

/// What a column member of type M is snapshotted as.
template <typename M> struct SnapshotMember { using type = M; };
template <> struct SnapshotMember<std::string> { using type = SnapshotText; };

} // namespace retort::detail
