#include "worker_threads.hpp"

namespace retort::detail {

WorkerThreads::~WorkerThreads() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    tasks_.clear();
  }
  ready_.notify_all();
  for (auto& thread : threads_)
    thread.join();
}

void WorkerThreads::submit(std::unique_ptr<WorkerTask> task) {
  std::unique_lock lock(mutex_);
  tasks_.push_back(std::move(task));
  // Every idle thread takes one queued task: a new thread is needed when the queue outgrows
  // them.
  if (tasks_.size() > idle_ + starting_) {
    ++starting_;
    threads_.emplace_back([this] { work(); });
    return;
  }
  lock.unlock();
  ready_.notify_one();
}

std::size_t WorkerThreads::size() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

void WorkerThreads::work() {
  std::unique_lock lock(mutex_);
  --starting_;
  for (;;) {
    ++idle_;
    ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (stopping_) return;
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task->run();
    task.reset();
    lock.lock();
  }
}

WorkerThreads& worker_threads() {
  static WorkerThreads threads;
  return threads;
}

} // namespace retort::detail
