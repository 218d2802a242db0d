// Checking a connection out of an engine's pool from a C++20 coroutine without blocking the
// thread (DESIGN.md, "Async: decide once, execute twice"): the coroutine waits for a free
// connection with the pool's timeout, and a new connection opens without blocking where the
// driver can (PostgreSQL on the caller's io_context) or on a worker thread (SQLite).
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <retort/core/export.hpp>
#include <retort/engine/connection.hpp>
#include <retort/engine/engine.hpp>

#include <boost/asio/awaitable.hpp>

namespace retort {

/// A connection of `engine`'s pool for the calling coroutine, as Engine::connect() but
/// awaited: an idle connection, else a new one, else it waits (without blocking the thread) for
/// one to be given back, at most the pool's timeout, then throws the same PoolTimeout as
/// Engine::connect(). A failed connect throws OperationalError. Destroyed while waiting or
/// connecting (its io_context gone), it leaves the pool as it found it: no slot is kept and no
/// half-open connection is pooled. Like an AsyncSession, it belongs to one coroutine (or strand)
/// at a time: the waits of a connect share that executor.
RETORT_API boost::asio::awaitable<Connection> connect_async(Engine engine);

} // namespace retort
