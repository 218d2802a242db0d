// AsyncSession on a Boost.Asio io_context: several sessions overlapping on one thread, each a
// coroutine started with co_spawn, loading relationships eagerly (lazy loading is an error in
// async code).
//
//   async [config.yaml] [engine-name]      (defaults: config/retort.yaml, "memory")
//
// On PostgreSQL the sessions run non-blocking on the io_context itself, and overlap while they
// wait for the server. On SQLite a plan runs on the io_context's thread as long as nothing makes
// it wait (":memory:", WAL mode: then the sessions simply run one after the other), and on a
// worker thread from the first wait on (another connection's lock, a rollback journal's COMMIT,
// which syncs the file), while the io_context goes on with the other sessions.
#include <utility> // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <retort/async/async_session.hpp>
#include <retort/retort.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;

struct Order;
struct Customer {
  std::int64_t id{};
  std::string name;
  retort::Collection<Order> orders;
};
struct Order {
  std::int64_t id{};
  std::string item;
  int quantity{};
  std::int64_t customer_id{};
  retort::Ref<Customer> customer;
};

template <> struct retort::Model<Customer> {
  static constexpr auto table = "customers";
  static constexpr auto fields = fields_of(
      column("id", &Customer::id, primary_key), column("name", &Customer::name, String(50)),
      relationship("orders", &Customer::orders, back_populates("customer"), order_by(&Order::id)));
};
template <> struct retort::Model<Order> {
  static constexpr auto table = "orders";
  static constexpr auto fields =
      fields_of(column("id", &Order::id, primary_key), column("item", &Order::item, String(50)),
                column("quantity", &Order::quantity),
                column("customer_id", &Order::customer_id, foreign_key("customers.id")),
                relationship("customer", &Order::customer, back_populates("orders")));
};

namespace {

const std::vector<std::string> names = {"Ada", "Brian", "Grace"};

// One customer's work in its own session: add two orders, commit, read them back eagerly.
asio::awaitable<void> place_orders(retort::Engine engine, std::string name, std::string& log) {
  retort::AsyncSession session(engine);
  log += name + " starts; ";
  auto customer = session.add(Customer{.name = name});
  customer->orders.push_back(
      std::make_shared<Order>(Order{.item = "tea", .quantity = static_cast<int>(name.size())}));
  customer->orders.push_back(std::make_shared<Order>(Order{.item = "scones", .quantity = 2}));
  co_await session.commit(); // when this waits, the other sessions run meanwhile
  log += name + " committed; ";

  // The same object again: answered from the identity map, without SQL.
  auto again = co_await session.get<Customer>(customer->id);
  if (again != customer) throw std::logic_error("the identity map returned another object");
}

// A report over every customer, with their orders loaded by one extra SELECT (selectin).
asio::awaitable<void> report(retort::Engine engine, int& orders_seen) {
  // A session holds its connection from its first statement to its end: the block ends this
  // one before the next session starts (on a pool of one connection they would wait for each
  // other).
  {
    retort::AsyncSession session(engine);
    auto query = session.query<Customer>();
    query.order_by(retort::col(&Customer::name)).options(retort::selectinload(&Customer::orders));
    auto customers = co_await session.all(query);
    for (const auto& customer : customers) {
      std::cout << "report: " << customer->name << ":";
      for (const auto& order : customer->orders) {
        std::cout << " " << order->quantity << " " << order->item;
        ++orders_seen;
      }
      std::cout << "\n";
    }
  }

  // Lazy loading would block the thread on the database: an async session refuses it.
  retort::AsyncSession session(engine);
  auto plain = co_await session.all(session.query<Order>().filter_by(&Order::item, "tea"));
  try {
    (void)plain.front()->customer->name; // the customer was not loaded by this query...
    std::cout << "lazy: loaded (unexpected)\n";
  } catch (const retort::InvalidStateError&) {
    std::cout << "lazy: refused in an async session; load eagerly instead\n";
  }
}

// Runs `task` to its end on `io`, passing on what it threw.
template <typename Task> void run(asio::io_context& io, Task task) {
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(task), [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  io.restart();
  if (failure) std::rethrow_exception(failure);
}

} // namespace

int main(int argc, char** argv) try {
  const std::string config = argc > 1 ? argv[1] : "config/retort.yaml";
  const std::string engine_name = argc > 2 ? argv[2] : "memory";
  retort::Engine engine = retort::engine_from_config(config, engine_name);
  retort::metadata().drop_all(engine);
  retort::metadata().create_all(engine);

  asio::io_context io; // one thread: the one that calls io.run()

  // Three sessions at once on that thread, one coroutine each.
  std::string log;
  std::vector<std::exception_ptr> failures;
  for (const auto& name : names)
    asio::co_spawn(io, place_orders(engine, name, log),
                   [&failures](std::exception_ptr e) { failures.push_back(e); });
  io.run();
  io.restart();
  for (const auto& failure : failures)
    if (failure) std::rethrow_exception(failure);
  std::cout << "overlap: " << log << "\n";

  int orders_seen = 0;
  run(io, report(engine, orders_seen));
  if (orders_seen != 2 * static_cast<int>(names.size())) {
    std::cerr << "async: expected " << 2 * names.size() << " orders, saw " << orders_seen << "\n";
    return 1;
  }
  std::cout << "async: " << names.size() << " sessions placed " << orders_seen << " orders\n";
  return 0;
} catch (const std::exception& error) {
  std::cerr << "async: " << error.what() << "\n";
  return 1;
}
