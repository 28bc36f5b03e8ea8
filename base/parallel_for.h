#pragma once
// Runs work(i) for every i in [0, count) on `jobs` threads, the caller's
// included, handing out indices in order. After the first exception no new
// index starts; it is rethrown once every thread has stopped. What work(i)
// produces must not depend on which thread runs it (results stay identical
// for any `jobs`).
#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vibesim {

// The machine's hardware threads (at least 1): every command's default --jobs.
inline int machine_cores() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

inline void parallel_for(int count, int jobs, const std::function<void(int)>& work) {
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex lock;
  const auto worker = [&] {
    for (int i = next++; i < count && !failed; i = next++) {
      try {
        work(i);
      } catch (...) {
        const std::lock_guard<std::mutex> guard(lock);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::min(jobs, count); ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace vibesim
