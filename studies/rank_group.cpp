#include "studies/rank_group.h"

#include <cstdlib>

#ifdef VIBESIM_HAVE_MPI
#include <mpi.h>
#endif

namespace vibesim {

namespace {

class LocalCounter final : public RankGroup::Counter {
 public:
  std::int64_t next() override { return value_++; }

 private:
  std::int64_t value_ = 0;
};

#ifdef VIBESIM_HAVE_MPI
bool mpi_running() {
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  return initialised != 0 && finalised == 0;
}

// One-sided fetch-and-add on a value held by rank 0.
class MpiCounter final : public RankGroup::Counter {
 public:
  explicit MpiCounter(bool holder) {
    MPI_Win_allocate(holder ? static_cast<MPI_Aint>(sizeof(std::int64_t)) : 0,
                     static_cast<int>(sizeof(std::int64_t)), MPI_INFO_NULL, MPI_COMM_WORLD, &base_,
                     &window_);
    if (holder) *base_ = 0;
    MPI_Barrier(MPI_COMM_WORLD);
  }
  ~MpiCounter() override {
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Win_free(&window_);
  }
  std::int64_t next() override {
    const std::int64_t one = 1;
    std::int64_t value = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, window_);
    MPI_Fetch_and_op(&one, &value, MPI_INT64_T, 0, 0, MPI_SUM, window_);
    MPI_Win_unlock(0, window_);
    return value;
  }

 private:
  std::int64_t* base_ = nullptr;
  MPI_Win window_{};
};
#endif

}  // namespace

RankGroup RankGroup::world() {
#ifdef VIBESIM_HAVE_MPI
  if (mpi_running()) {
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return {rank, size};
  }
#endif
  return {0, 1};
}

std::string RankGroup::broadcast(const std::string& text) const {
#ifdef VIBESIM_HAVE_MPI
  if (size_ > 1) {
    auto length = static_cast<long long>(text.size());
    MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    std::string out = leader() ? text : std::string(static_cast<std::size_t>(length), '\0');
    MPI_Bcast(out.data(), static_cast<int>(length), MPI_CHAR, 0, MPI_COMM_WORLD);
    return out;
  }
#endif
  return text;
}

std::vector<std::string> RankGroup::gather(const std::string& text) const {
#ifdef VIBESIM_HAVE_MPI
  if (size_ > 1) {
    int length = static_cast<int>(text.size());
    std::vector<int> lengths(static_cast<std::size_t>(size_)), offsets(lengths.size(), 0);
    MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    int total = 0;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
      offsets[r] = total;
      total += lengths[r];
    }
    std::string all(static_cast<std::size_t>(leader() ? total : 0), '\0');
    MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
                0, MPI_COMM_WORLD);
    if (!leader()) return {};
    std::vector<std::string> out;
    for (std::size_t r = 0; r < lengths.size(); ++r)
      out.push_back(
          all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r])));
    return out;
  }
#endif
  return {text};
}

void RankGroup::barrier() const {
#ifdef VIBESIM_HAVE_MPI
  if (size_ > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

std::unique_ptr<RankGroup::Counter> RankGroup::make_counter() const {
#ifdef VIBESIM_HAVE_MPI
  if (size_ > 1) return std::make_unique<MpiCounter>(leader());
#endif
  return std::make_unique<LocalCounter>();
}

MpiSession::MpiSession([[maybe_unused]] int* argc, [[maybe_unused]] char*** argv) {
#ifdef VIBESIM_HAVE_MPI
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    initialised_ = true;
  }
#endif
}

MpiSession::~MpiSession() {
#ifdef VIBESIM_HAVE_MPI
  if (initialised_) MPI_Finalize();
#endif
}

}  // namespace vibesim
