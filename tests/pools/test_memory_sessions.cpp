// A SQLite :memory: engine has one connection (the static pool). A commit with nothing to write
// takes none; a second session in the thread that holds it fails at once with a PoolTimeout
// that says why, instead of waiting for the checkout timeout; other threads still wait.
#include <retort/retort.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

using namespace retort;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace ms {
struct Note {
  std::int64_t id{};
  std::string text;
};
} // namespace ms

template <> struct retort::Model<ms::Note> {
  static constexpr auto table = "ms_notes";
  static constexpr auto fields =
      fields_of(column("id", &ms::Note::id, primary_key), column("text", &ms::Note::text));
};

namespace {

Engine memory_engine() {
  auto engine = create_engine("sqlite:///:memory:");
  engine.connect().execute_ddl("CREATE TABLE ms_notes (id INTEGER PRIMARY KEY, text TEXT)");
  return engine;
}

struct TempFile {
  fs::path dir;
  TempFile() {
    std::string pattern = (fs::temp_directory_path() / "retort-ms-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
  }
  ~TempFile() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  std::string url() const { return "sqlite:///" + (dir / "ms.db").string(); }
};

} // namespace

TEST_CASE("a commit with nothing to write takes no connection", "[pool][session]") {
  TempFile file;
  auto engine = create_engine(file.url());
  Session session(engine);
  session.commit();
  CHECK(engine.pool().status().opened == 0);
  CHECK(engine.pool().status().checked_out == 0);
  // Nor while another session holds the only connection of a :memory: engine.
  auto memory = memory_engine();
  Session holder(memory);
  holder.add(ms::Note{.text = "held"});
  holder.flush(); // holds the connection in an open transaction
  Session idle(memory);
  idle.commit();
  holder.commit();
  Session reader(memory);
  CHECK(reader.query<ms::Note>().count() == 1);
}

TEST_CASE(":memory:: a second session in the thread holding the connection fails at once",
          "[pool][session]") {
  auto engine = memory_engine();
  Session first(engine);
  first.add(ms::Note{.text = "a"});
  first.flush();
  Session second(engine);
  try {
    (void)second.query<ms::Note>().all();
    FAIL("the second session got a connection the first one holds");
  } catch (const PoolTimeout& e) {
    CHECK_THAT(e.what(), Catch::Contains("held by this thread"));
  }
  // The first session is unharmed; once it commits, the second one works.
  first.commit();
  CHECK(second.query<ms::Note>().count() == 1);
}

TEST_CASE("a checkout still waits for a connection another thread holds", "[pool][session]") {
  TempFile file;
  EngineConfig config;
  config.pool.kind = "queue";
  config.pool.size = 1;
  config.pool.max_overflow = 0;
  config.pool.timeout = 60s;
  auto engine = create_engine(file.url(), config);
  engine.connect().execute_ddl("CREATE TABLE ms_notes (id INTEGER PRIMARY KEY, text TEXT)");
  std::promise<void> taken;
  std::thread other([&] {
    Connection held = engine.connect();
    taken.set_value();
    // Returned only once this thread's checkout is waiting for it.
    while (engine.pool().status().waiting == 0)
      std::this_thread::sleep_for(1ms);
  });
  taken.get_future().wait();
  Session session(engine);
  session.add(ms::Note{.text = "after the wait"});
  session.commit();
  other.join();
  CHECK(Session(engine).query<ms::Note>().count() == 1);
}
