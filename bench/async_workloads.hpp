// The "async" variants of bench_retort: the same work as the blocking workloads, through
// AsyncSession on one io_context thread. Timed by the caller.
#pragma once

#include "common.hpp"

#include <retort/engine/engine.hpp>

#include <memory>
#include <vector>

namespace bench {

/// short_selects: `a.small_n` sessions, one get() each; the objects land in `got`.
void async_short_selects(const retort::Engine& engine, const Args& a,
                         std::vector<std::shared_ptr<Customer>>& got);
/// single_inserts: one session, add() and commit() per input row; the objects land in `objects`.
void async_single_inserts(const retort::Engine& engine, std::vector<Customer>& input,
                          std::vector<std::shared_ptr<Customer>>& objects);
/// bulk_update: keyset chunks of 1000 loaded, changed, flushed; one commit.
void async_bulk_update(const retort::Engine& engine);

} // namespace bench
