// What a Connection, its Results and its Transactions share. Internal to the engine layer.
#pragma once

#include <retort/engine/engine.hpp>
#include <retort/engine/pool.hpp>

#include <unordered_set>

namespace retort {

struct ConnectionState {
  ConnectionState(Engine e, PooledConnection p) : engine(std::move(e)), pooled(std::move(p)) {}

  Engine engine;
  PooledConnection pooled;
  // Cached statements stepped by a live Result; executing the same SQL again meanwhile gets a
  // private statement instead of resetting the one being read.
  std::unordered_set<DriverStatement*> busy;
  int savepoint_counter = 0;
  // A top-level transaction has begun and nothing ran in it yet, as far as the engine can tell
  // (driver() hands the connection out, so it counts as use).
  bool untouched_transaction = false;

  /// The driver connection; throws InvalidStateError once closed.
  DriverConnection& driver();
  /// After a failure: a connection the driver reports broken is discarded by the pool.
  void note_failure() noexcept;
};

} // namespace retort
