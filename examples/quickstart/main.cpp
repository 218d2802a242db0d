// The SQLAlchemy cheatsheet, step by step, in Retort. Run it with the README's first command.
//
//   quickstart [config.yaml] [engine-name]      (defaults: config/retort.yaml, "default")
#include <retort/retort.hpp>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

// 4. Defining a model: plain structs...
struct Address;
struct User {
  std::int64_t id{};
  std::string name;
  std::optional<int> age; // NULL-able
  retort::Collection<Address> addresses;
};

// 11. Relationships
struct Address {
  std::int64_t id{};
  std::string email;
  std::optional<std::int64_t> user_id;
  retort::Ref<User> user;
};

// ...and their mapping, next to them (declarative, like SQLAlchemy's Base classes).
template <> struct retort::Model<User> {
  static constexpr auto table = "users";
  static constexpr auto fields =
      fields_of(column("id", &User::id, primary_key), column("name", &User::name, String(50)),
                column("age", &User::age),
                relationship("addresses", &User::addresses, back_populates("user"),
                             order_by(&Address::id)));
};

template <> struct retort::Model<Address> {
  static constexpr auto table = "addresses";
  static constexpr auto fields =
      fields_of(column("id", &Address::id, primary_key), column("email", &Address::email),
                column("user_id", &Address::user_id, foreign_key("users.id")),
                relationship("user", &Address::user, back_populates("addresses")));
};

namespace {

void print(const char* step, const std::string& what) { std::cout << step << ": " << what << "\n"; }

std::string describe(const User& user) {
  return user.name + " (id " + std::to_string(user.id) + ", age " +
         (user.age ? std::to_string(*user.age) : "NULL") + ")";
}

} // namespace

int main(int argc, char** argv) try {
  using retort::col;
  const std::filesystem::path config = argc > 1 ? argv[1] : "config/retort.yaml";
  const std::string name = argc > 2 ? argv[2] : "default";

  // 3. Creating an engine: from YAML (the dialect plugin is found on the configured paths).
  retort::Engine engine = retort::engine_from_config(config, name);
  print("engine", engine.url().render());

  // 5. Creating tables (dropped first so that every run starts the same).
  retort::metadata().drop_all(engine);
  retort::metadata().create_all(engine);
  print("tables", "created users and addresses");

  // 6. Session configuration
  auto Session = retort::sessionmaker(engine);
  retort::Session session = Session();

  // 7. Adding data
  auto john = session.add(User{.name = "John Doe", .age = 25});
  session.add(User{.name = "Jane Roe", .age = 41});
  session.add(User{.name = "Sam Poe", .age = std::nullopt});
  session.commit();
  print("add", "committed 3 users; John got id " + std::to_string(john->id));

  // 8. Querying data
  for (const auto& user : session.query<User>().all()) print("query all", describe(*user));
  for (const auto& user : session.query<User>().filter(col(&User::age) < 30).all())
    print("filter age < 30", describe(*user));

  // 9. Updating data: assign, and the flush finds the change.
  auto found = session.query<User>().filter_by(&User::name, "John Doe").first();
  found->age = 26;
  session.commit();
  print("update", describe(*session.get<User>(found->id)));

  // 11. Relationships: back_populates keeps both sides in step, order_by sorts the collection.
  john->addresses.push_back(std::make_shared<Address>(Address{.email = "john@home.example"}));
  auto work = session.add(Address{.email = "john@work.example"});
  work->user = john;
  session.commit();
  for (const auto& address : john->addresses)
    print("relationship", address->email + " belongs to " + address->user->name);

  // 12. Joining tables: tuples of objects.
  auto pairs = session.query<User, Address>()
                   .join(&User::addresses)
                   .filter(col(&User::id) == col(&Address::user_id))
                   .all();
  for (const auto& [user, address] : pairs) print("join", user->name + " <-> " + address->email);

  // 10. Deleting data
  auto sam = session.query<User>().filter_by(&User::name, "Sam Poe").first();
  session.remove(sam);
  session.commit();
  print("delete", "Sam Poe removed; " + std::to_string(session.query<User>().count()) + " users left");

  // 13. Rolling back changes
  john->name = "Johnny";
  session.add(User{.name = "Temporary", .age = 1});
  session.flush(); // sent to the database, inside the transaction
  print("rollback", "before: " + std::to_string(session.query<User>().count()) + " users, John is " + john->name);
  session.rollback();
  auto reloaded = session.get<User>(john->id);
  print("rollback", "after: " + std::to_string(session.query<User>().count()) + " users, John is " + reloaded->name);
  return 0;
} catch (const retort::Error& error) {
  std::cerr << "quickstart: " << error.what() << "\n";
  return 1;
}
