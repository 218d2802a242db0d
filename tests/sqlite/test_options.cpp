// Connection options from the URL query and from Options: paths, pragmas, modes, validation.
#include "sqlite_plugin.hpp"

#include <retort/core/error.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace retort;
using retort::test::connect;
using retort::test::TempDir;

namespace {

std::string pragma_text(DriverConnection& c, const std::string& pragma) {
  auto stmt = c.prepare("PRAGMA " + pragma);
  REQUIRE(stmt->step());
  return std::string(stmt->get_text(0));
}

// Changes the working directory for the life of the object.
class WorkingDirectory {
public:
  explicit WorkingDirectory(const std::filesystem::path& dir)
      : saved_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~WorkingDirectory() { std::filesystem::current_path(saved_); }
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;

private:
  std::filesystem::path saved_;
};

} // namespace

TEST_CASE("defaults: foreign keys on, busy_timeout 5000 ms", "[sqlite][options]") {
  auto c = connect("sqlite://");
  CHECK(pragma_text(*c, "foreign_keys") == "1");
  CHECK(pragma_text(*c, "busy_timeout") == "5000");
}

TEST_CASE("options from the URL query and from Options, Options winning", "[sqlite][options]") {
  TempDir dir;
  auto c = connect(dir.url("o.db") + "?busy_timeout=250&foreign_keys=off&journal_mode=WAL",
                   {{"synchronous", "normal"}});
  CHECK(pragma_text(*c, "busy_timeout") == "250");
  CHECK(pragma_text(*c, "foreign_keys") == "0");
  CHECK(pragma_text(*c, "journal_mode") == "wal");
  CHECK(pragma_text(*c, "synchronous") == "1");

  auto d = connect(dir.url("o.db") + "?busy_timeout=250", {{"busy_timeout", "10"}});
  CHECK(pragma_text(*d, "busy_timeout") == "10");
}

TEST_CASE("foreign_keys=false lets orphans in", "[sqlite][options]") {
  auto c = connect("sqlite://", {{"foreign_keys", "false"}});
  c->execute("CREATE TABLE p (id INTEGER PRIMARY KEY);"
             "CREATE TABLE k (p_id INTEGER REFERENCES p(id));"
             "INSERT INTO k VALUES (42)");
  auto stmt = c->prepare("SELECT count(*) FROM k");
  REQUIRE(stmt->step());
  CHECK(stmt->get_int64(0) == 1);
}

TEST_CASE("relative paths are relative to the working directory", "[sqlite][options]") {
  TempDir dir;
  {
    WorkingDirectory cwd(dir.path());
    connect("sqlite:///relative.db")->execute("CREATE TABLE t (x INTEGER)");
  }
  CHECK(std::filesystem::exists(dir.path() / "relative.db"));
  // The same file through an absolute path (four slashes).
  auto c = connect("sqlite:///" + (dir.path() / "relative.db").string());
  CHECK_NOTHROW(c->prepare("SELECT x FROM t"));
}

TEST_CASE("mode=ro opens read-only, uri=true takes a file: URI", "[sqlite][options]") {
  TempDir dir;
  auto path = (dir.path() / "u.db").string();
  connect("sqlite:///" + path)->execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)");

  auto ro = connect("sqlite:///file:" + path + "?mode=ro&uri=true");
  auto stmt = ro->prepare("SELECT x FROM t");
  REQUIRE(stmt->step());
  CHECK(stmt->get_int64(0) == 7);
  CHECK_THROWS_AS(ro->execute("INSERT INTO t VALUES (8)"), OperationalError);

  auto immutable = connect("sqlite:///" + path + "?uri=1&immutable=1");
  CHECK_NOTHROW(immutable->prepare("SELECT x FROM t"));
  CHECK_THROWS_AS(immutable->execute("INSERT INTO t VALUES (8)"), OperationalError);

  // Shared-cache memory databases are one database for every connection of the process.
  auto a = connect("sqlite:///file::memory:?cache=shared&uri=true");
  auto b = connect("sqlite:///file::memory:?cache=shared&uri=true");
  a->execute("CREATE TABLE shared_t (x INTEGER)");
  CHECK_NOTHROW(b->prepare("SELECT x FROM shared_t"));
}

TEST_CASE("transaction_mode=immediate takes the write lock at begin", "[sqlite][options]") {
  TempDir dir;
  auto first = connect(dir.url("tx.db"), {{"transaction_mode", "immediate"}});
  auto second = connect(dir.url("tx.db"), {{"busy_timeout", "0"}});
  first->execute("CREATE TABLE t (x INTEGER)");
  first->begin();
  CHECK_THROWS_AS(second->execute("INSERT INTO t VALUES (1)"), OperationalError);
  first->rollback();
  second->execute("INSERT INTO t VALUES (1)");
}

TEST_CASE("invalid options are ConfigErrors naming the option", "[sqlite][options]") {
  auto error_for = [](const std::string& url, const Options& options = {}) -> std::string {
    try {
      connect(url, options);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no ConfigError";
  };
  CHECK_THAT(error_for("sqlite://?busy_timeout=soon"), Catch::Contains("busy_timeout='soon'"));
  CHECK_THAT(error_for("sqlite://", {{"busy_timeout", "-1"}}), Catch::Contains("busy_timeout"));
  CHECK_THAT(error_for("sqlite://?foreign_keys=maybe"), Catch::Contains("true or false"));
  CHECK_THAT(error_for("sqlite://?journal_mode=wal;DROP"), Catch::Contains("journal_mode"));
  CHECK_THAT(error_for("sqlite://?mode=rwx"), Catch::Contains("mode"));
  CHECK_THAT(error_for("sqlite://?synchronus=off"),
             Catch::Contains("unknown SQLite option 'synchronus'") &&
                 Catch::Contains("synchronous"));
  CHECK_THAT(error_for("sqlite://?immutable=1"), Catch::Contains("uri=true"));
  CHECK_THAT(error_for("sqlite://", {{"transaction_mode", "eventually"}}),
             Catch::Contains("transaction_mode"));
}

TEST_CASE("a host in an SQLite URL is refused", "[sqlite][options]") {
  // sqlite://app.db reads app.db as a host; the message shows the right spelling.
  try {
    connect("sqlite://app.db");
    FAIL("no error");
  } catch (const ArgumentError& e) {
    CHECK_THAT(e.what(), Catch::Contains("sqlite:///relative.db") && Catch::Contains("app.db"));
  }
}
