#pragma once
// The processes a study is shared among: the MPI ranks `mpirun` started
// (when vibesim is built with MPI, VIBESIM_HAVE_MPI), or this process alone.
// Calls marked collective must be made by every member, in the same order.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vibesim {

class RankGroup {
 public:
  // MPI_COMM_WORLD when MPI was initialised (tools/main.cpp does so when
  // started by mpirun), else a group of one.
  static RankGroup world();

  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return size_; }
  [[nodiscard]] bool leader() const { return rank_ == 0; }

  // Collective: the leader's `text`, on every member.
  [[nodiscard]] std::string broadcast(const std::string& text) const;
  // Collective: every member's `text` on the leader, in rank order (others: empty).
  [[nodiscard]] std::vector<std::string> gather(const std::string& text) const;
  // Collective.
  void barrier() const;

  // A counter shared by the members: next() returns 0, 1, 2, ... across all
  // of them, each value once (dynamic work sharing). Created collectively.
  class Counter {
   public:
    virtual ~Counter() = default;
    virtual std::int64_t next() = 0;
  };
  [[nodiscard]] std::unique_ptr<Counter> make_counter() const;

 private:
  RankGroup(int rank, int size) : rank_(rank), size_(size) {}
  int rank_, size_;
};

// Initialises MPI for the program's lifetime when it was built with MPI and
// started by mpirun (OMPI_COMM_WORLD_SIZE or PMI_SIZE set); else does nothing.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
#ifdef VIBESIM_HAVE_MPI
  bool initialised_ = false;
#endif
};

}  // namespace vibesim
