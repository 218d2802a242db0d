// The models of the README (users and their addresses), for snippets that use them.
#pragma once
#include <utility> // Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <retort/async/async_session.hpp>
#include <retort/retort.hpp>

#include <boost/asio.hpp>

#include <cstdint>
#include <optional>
#include <string>

struct Address;
struct User {
  std::int64_t id{};
  std::string name;
  std::optional<int> age;
  retort::Collection<Address> addresses;
};
struct Address {
  std::int64_t id{};
  std::string email;
  std::optional<std::int64_t> user_id;
  retort::Ref<User> user;
};

template <> struct retort::Model<User> {
  static constexpr auto table = "users";
  static constexpr auto fields = fields_of(
      column("id", &User::id, primary_key), column("name", &User::name, String(50)),
      column("age", &User::age),
      relationship("addresses", &User::addresses, back_populates("user"), order_by(&Address::id)));
};
template <> struct retort::Model<Address> {
  static constexpr auto table = "addresses";
  static constexpr auto fields =
      fields_of(column("id", &Address::id, primary_key), column("email", &Address::email),
                column("user_id", &Address::user_id, foreign_key("users.id")),
                relationship("user", &Address::user, back_populates("addresses")));
};
