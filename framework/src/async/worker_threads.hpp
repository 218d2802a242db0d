// The threads blocking drivers (SQLite) run on when called from a coroutine.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace retort::detail {

/// A task for a worker thread: run once, or dropped unrun at shutdown.
class WorkerTask {
public:
  virtual ~WorkerTask() = default;
  /// Runs the task; must not throw.
  virtual void run() noexcept = 0;
};

/// Threads for blocking driver calls. A call never waits for a thread: when none is idle, one
/// more starts. So a call blocked in the database (SQLite waiting out another connection's
/// lock) never keeps another session's call (perhaps the COMMIT that releases that lock) from
/// running, as a fixed pool of two did: their number follows the calls under way, which is at
/// most the connections checked out. Idle threads stay for the next calls; all end with the
/// process.
class WorkerThreads {
public:
  WorkerThreads() = default;
  /// Stops and joins the threads; tasks not yet started are dropped.
  ~WorkerThreads();
  WorkerThreads(const WorkerThreads&) = delete;
  WorkerThreads& operator=(const WorkerThreads&) = delete;

  /// Runs `task` on an idle thread, or on a new one when none is idle.
  void submit(std::unique_ptr<WorkerTask> task);
  /// Threads started so far.
  std::size_t size() const;

private:
  void work();

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::unique_ptr<WorkerTask>> tasks_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  // Threads started that have not yet come to wait for a task.
  std::size_t starting_ = 0;
  bool stopping_ = false;
};

/// The process's worker threads.
WorkerThreads& worker_threads();

} // namespace retort::detail
