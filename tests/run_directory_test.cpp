// Run directories and atomic files: all of a run or none of it, never mixed.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "fixtures.h"
#include "io/atomic_file.h"
#include "io/config_error.h"
#include "io/run_directory.h"

using namespace vibesim;

TEST_CASE("a committed run directory holds exactly what was staged") {
  testing::TempDir dir("rundir-commit");
  RunDirectory run(dir.path / "run");
  write_file_atomically(run.staged("a.txt"), "alpha\n");
  CHECK_FALSE(std::filesystem::exists(dir.path / "run"));  // nothing visible before commit
  run.commit();
  CHECK(testing::names_in(dir.path) == std::vector<std::string>{"run"});
  CHECK(testing::read_file(dir.path / "run" / "a.txt") == "alpha\n");
}

TEST_CASE("a run that fails before commit leaves nothing behind") {
  testing::TempDir dir("rundir-fail");
  {
    RunDirectory run(dir.path / "run");
    write_file_atomically(run.staged("a.txt"), "partial\n");
  }
  CHECK(testing::names_in(dir.path).empty());
}

TEST_CASE("an existing non-empty output folder is refused; an empty one is replaced") {
  testing::TempDir dir("rundir-existing");
  std::filesystem::create_directories(dir.path / "old");
  dir.write("old/keep.txt", "old run\n");
  CHECK_THROWS_AS(RunDirectory(dir.path / "old"), InputError);
  CHECK(testing::names_in(dir.path / "old") == std::vector<std::string>{"keep.txt"});
  std::filesystem::create_directories(dir.path / "empty");
  RunDirectory run(dir.path / "empty");
  write_file_atomically(run.staged("a.txt"), "new\n");
  run.commit();
  CHECK(testing::names_in(dir.path / "empty") == std::vector<std::string>{"a.txt"});
}

TEST_CASE("staging folders of dead processes are removed by the next run") {
  testing::TempDir dir("rundir-stale");
  // pid 2^22 + 1 is above Linux's pid_max limit, so no such process can exist.
  std::filesystem::create_directories(dir.path / ".run.staging-4194305");
  dir.write(".run.staging-4194305/layers.csv", "partial");
  RunDirectory run(dir.path / "next");
  CHECK_FALSE(std::filesystem::exists(dir.path / ".run.staging-4194305"));
}

TEST_CASE("an atomic write replaces the file whole and leaves no temporary") {
  testing::TempDir dir("atomic");
  write_file_atomically(dir.path / "f.txt", "one\n");
  write_file_atomically(dir.path / "f.txt", "two\n");
  CHECK(testing::read_file(dir.path / "f.txt") == "two\n");
  CHECK(testing::names_in(dir.path) == std::vector<std::string>{"f.txt"});
  CHECK_THROWS_AS(write_file_atomically(dir.path / "no" / "such" / "dir.txt", "x"), InputError);
  CHECK(testing::names_in(dir.path) == std::vector<std::string>{"f.txt"});
}

TEST_CASE("files written together: one that cannot be written leaves none of them") {
  testing::TempDir dir("atomic-set");
  const std::vector<OutputFile> both{{dir.path / "a.json", "a\n"}, {dir.path / "b.json", "b\n"}};
  write_files_atomically(both);
  CHECK(testing::names_in(dir.path) == std::vector<std::string>{"a.json", "b.json"});
  const std::vector<OutputFile> one_bad{{dir.path / "c.json", "c\n"},
                                        {dir.path / "no" / "d.json", "d\n"}};
  CHECK_THROWS_WITH_AS(write_files_atomically(one_bad), doctest::Contains("d.json: cannot write"),
                       InputError);
  CHECK(testing::names_in(dir.path) == std::vector<std::string>{"a.json", "b.json"});
}

TEST_CASE("an atomic write through a link replaces the file it names and keeps the link") {
  testing::TempDir dir("atomic-link");
  dir.write("target.json", "old\n");
  std::filesystem::create_symlink(dir.path / "target.json", dir.path / "link.json");
  write_file_atomically(dir.path / "link.json", "new\n");
  CHECK(std::filesystem::is_symlink(dir.path / "link.json"));
  CHECK(testing::read_file(dir.path / "target.json") == "new\n");
  remove_written_file(dir.path / "link.json");
  CHECK(testing::names_in(dir.path) == std::vector<std::string>{"link.json"});  // now dangling
}

TEST_CASE("what is not a regular file (a FIFO, /dev/stdout) is written in place, never replaced") {
  testing::TempDir dir("atomic-fifo");
  const auto fifo = dir.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(is_stream_output(fifo));
  CHECK_FALSE(is_stream_output(dir.path));
  CHECK_FALSE(is_stream_output(dir.path / "new.json"));
  // A reader that does not block, so a write replacing the FIFO fails the
  // checks below instead of hanging.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  write_file_atomically(fifo, "through\n");
  char buffer[64] = {};
  const auto got = ::read(reader, buffer, sizeof buffer);
  ::close(reader);
  CHECK(std::string(buffer, got > 0 ? static_cast<std::size_t>(got) : 0) == "through\n");
  CHECK(std::filesystem::is_fifo(fifo));  // was renamed over: a regular file
  remove_written_file(fifo);
  CHECK(std::filesystem::is_fifo(fifo));
  CHECK(testing::names_in(dir.path) == std::vector<std::string>{"fifo"});
}
