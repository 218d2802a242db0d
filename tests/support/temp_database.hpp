// A SQLite database file in a fresh directory, removed with the directory when the object dies.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace retort::test {

/// A fresh directory for one SQLite file, removed with everything in it.
struct TempDatabase {
  /// The directory.
  std::filesystem::path dir;
  TempDatabase() {
    std::string pattern = (std::filesystem::temp_directory_path() / "retort-db-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
  }
  ~TempDatabase() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;
  /// The `sqlite:///` URL of the file `name` in the directory.
  std::string url(const std::string& name = "test.db") const {
    return "sqlite:///" + (dir / name).string();
  }
};

} // namespace retort::test
