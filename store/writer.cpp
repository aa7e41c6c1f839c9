#include "store/writer.hpp"

#include <stdexcept>

#include <pthread.h>

namespace duijie::store {

Writer::Writer(const std::string& path, const ConnectionOptions& options, std::size_t max_batch)
    : conn_(path, options), max_batch_(max_batch == 0 ? 1 : max_batch), thread_([this] { Loop(); }) {}

Writer::~Writer() { Stop(); }

void Writer::Submit(Work work, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Job{std::move(work), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(std::make_exception_ptr(std::runtime_error("store writer is stopped")));
}

void Writer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Writer::Stats Writer::GetStats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::size_t Writer::QueueDepth() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Writer::Loop() {
  // Named so that top -H, perf and gdb tell the store's thread from the others.
  pthread_setname_np(pthread_self(), "duijie-writer");
  std::vector<Job> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      const std::size_t n = std::min(queue_.size(), max_batch_);
      batch.clear();
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunBatch(batch);
  }
}

void Writer::RunBatch(std::vector<Job>& batch) {
  std::vector<std::exception_ptr> errors(batch.size());
  bool began = false;
  try {
    conn_.Prepare("BEGIN IMMEDIATE").exec();
    began = true;
  } catch (...) {
    const auto e = std::current_exception();
    for (auto& err : errors) err = e;
  }
  if (began) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      try {
        conn_.Prepare("SAVEPOINT job").exec();
      } catch (...) {
        errors[i] = std::current_exception();
        continue;
      }
      try {
        batch[i].work(conn_);
        conn_.Prepare("RELEASE job").exec();
      } catch (...) {
        errors[i] = std::current_exception();
        try {
          conn_.Prepare("ROLLBACK TO job").exec();
          conn_.Prepare("RELEASE job").exec();
        } catch (...) {
          // The savepoint is gone only if the whole transaction was rolled back; COMMIT below
          // then fails and reports it to every job.
        }
      }
    }
    try {
      conn_.ResetStatements();  // no job's half-read result may hold a snapshot past COMMIT
      conn_.Prepare("COMMIT").exec();
    } catch (...) {
      const auto e = std::current_exception();
      try {
        conn_.Exec("ROLLBACK");
      } catch (...) {
        // Already rolled back by SQLite.
      }
      for (auto& err : errors) {
        if (!err) err = e;
      }
    }
  }
  {
    std::lock_guard lock(mu_);
    stats_.batches += 1;
    stats_.jobs += batch.size();
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    // Release each job's captures as soon as it is done, not when the next batch starts.
    Job job = std::move(batch[i]);
    job.done(errors[i]);
  }
  batch.clear();
}

}  // namespace duijie::store
