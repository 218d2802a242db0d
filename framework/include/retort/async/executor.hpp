// The Asio executor of plans: the same plans the blocking executor runs (DESIGN.md, "decide
// once, execute twice"), driven from a C++20 coroutine. PostgreSQL runs non-blocking on the
// caller's io_context (libpq's socket watched by Asio); a driver without a non-blocking side
// (SQLite) runs the whole plan on a worker thread, since one thread hop costs more than a
// SQLite statement, and the coroutine resumes on its own executor afterwards.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <retort/core/export.hpp>
#include <retort/engine/pipeline.hpp>
#include <retort/orm/plan.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <exception>
#include <span>
#include <vector>

namespace retort {

class Connection;
class Transaction;

/// Runs `plan` to completion on `connection` without blocking the calling coroutine's thread
/// on the database (see the file comment for how each kind of driver is driven).
RETORT_API boost::asio::awaitable<void> run_plan_async(Plan& plan, Connection& connection);

/// Connection::execute_pipeline() without blocking: the statements go out together and their
/// results come back in order, in one round trip where the driver can pipeline (PostgreSQL,
/// driven on the caller's io_context); elsewhere they run on a worker thread.
RETORT_API boost::asio::awaitable<std::vector<Result>>
execute_pipeline_async(Connection& connection, std::span<const PipelinedStatement> statements);

/// run_plan_and_commit() without blocking: the plan's final step and the COMMIT go out in one
/// round trip where the driver can pipeline. Throws what a step throws (nothing committed),
/// and so does a COMMIT sent with the final step; returns the error of a COMMIT sent on its
/// own, after every step succeeded (as run_plan_and_commit() does).
RETORT_API boost::asio::awaitable<std::exception_ptr>
run_plan_and_commit_async(Plan& plan, Connection& connection, Transaction& transaction);

/// Commits `transaction`, the top-level one of `connection`, as run_plan_async() runs a plan:
/// COMMIT goes through the non-blocking side (the coroutine waits for its answer without
/// blocking the thread), or to a worker thread for a blocking driver.
RETORT_API boost::asio::awaitable<void> commit_async(Connection& connection,
                                                     Transaction& transaction);

} // namespace retort
