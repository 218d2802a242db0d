// The models of the SQLAlchemy parity cases (SQLALCHEMY_PARITY.md): SQLAlchemy's own test
// fixtures (test/orm/_fixtures.py and the tables of test_cascade.py, test_naturalpks.py, ...)
// as plain structs. Their tables are prefixed `p_` so they never meet tests/conformance/models.hpp.
// A relationship's cascade and loader are part of its class's mapping, so each configuration
// SQLAlchemy's tests map differently is its own family of classes.
#pragma once

#include "../backend.hpp"

#include <retort/retort.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parity {

// --- _fixtures.FixtureTest: users, addresses, orders, items, keywords (default cascade:
// save-update and merge; back_populates both ways) ---
struct Address;
struct Order;
struct Item;
struct Keyword;
struct User {
  std::int64_t id{};
  std::string name;
  retort::Collection<Address> addresses;
  retort::Collection<Order> orders;
};
struct Address {
  std::int64_t id{};
  std::optional<std::int64_t> user_id;
  std::string email_address;
  retort::Ref<User> user;
};
struct Order {
  std::int64_t id{};
  std::optional<std::int64_t> user_id;
  std::string description;
  int isopen{};
  retort::Ref<User> user;
  retort::Collection<Item> items;
};
struct Item {
  std::int64_t id{};
  std::string description;
  retort::Collection<Order> orders;
  retort::Collection<Keyword> keywords;
};
struct Keyword {
  std::int64_t id{};
  std::string name;
  retort::Collection<Item> items;
};
struct OrderItem {
  std::int64_t item_id{};
  std::int64_t order_id{};
};
struct ItemKeyword {
  std::int64_t item_id{};
  std::int64_t keyword_id{};
};

// A self-referential tree without cascades (test_unitofworkv2.py SingleCycleTest's nodes).
struct Node {
  std::int64_t id{};
  std::optional<std::int64_t> parent_id;
  std::string data;
  retort::Ref<Node> parent;
  retort::Collection<Node> children;
};

// --- test_cascade.py O2MCascadeDeleteOrphanTest: "all, delete-orphan" collections; orders
// have no reference back and a NOT NULL foreign key ---
struct CoAddress;
struct CoOrder;
struct CoUser {
  std::int64_t id{};
  std::string name;
  retort::Collection<CoAddress> addresses;
  retort::Collection<CoOrder> orders;
};
struct CoAddress {
  std::int64_t id{};
  std::optional<std::int64_t> user_id;
  std::string email_address;
  retort::Ref<CoUser> user;
};
struct CoOrder {
  std::int64_t id{};
  std::int64_t user_id{};
  std::string description;
};

// --- test_cascade.py O2MCascadeDeleteNoOrphanTest: cascade "all" without delete-orphan ---
struct CdOrder;
struct CdUser {
  std::int64_t id{};
  std::string name;
  retort::Collection<CdOrder> orders;
};
struct CdOrder {
  std::int64_t id{};
  std::optional<std::int64_t> user_id;
  std::string description;
  retort::Ref<CdUser> user;
};

// --- test_cascade.py O2MSelfReferentialDetelOrphanTest: a tree with "all, delete-orphan" ---
struct TNode {
  std::int64_t id{};
  std::optional<std::int64_t> parent_id;
  std::string name;
  retort::Ref<TNode> parent;
  retort::Collection<TNode> children;
};

// --- test_cascade.py M2MCascadeTest: a -> b -> c many-to-many, "all, delete-orphan" ---
struct MB;
struct MC;
struct MA {
  std::int64_t id{};
  std::string data;
  retort::Collection<MB> bs;
};
struct MB {
  std::int64_t id{};
  std::string data;
  retort::Collection<MC> cs;
};
struct MC {
  std::int64_t id{};
  std::string data;
};
struct MAtoB {
  std::int64_t aid{};
  std::int64_t bid{};
};
struct MBtoC {
  std::int64_t bid{};
  std::int64_t cid{};
};

// --- test_naturalpks.py: string primary keys, foreign keys to them ---
struct NkAddress;
struct NkItem;
struct NkUser {
  std::string username;
  std::string fullname;
  retort::Collection<NkAddress> addresses;
  retort::Collection<NkItem> items;
};
struct NkAddress {
  std::string email;
  std::optional<std::string> username;
  retort::Ref<NkUser> user;
};
struct NkItem {
  std::string itemname;
  std::string description;
  retort::Collection<NkUser> users;
};
struct NkUserItem {
  std::string username;
  std::string itemname;
};
struct NkNode {
  std::string name;
  std::optional<std::string> parent;
  retort::Ref<NkNode> parent_node;
  retort::Collection<NkNode> children;
};
// test_naturalpks.py ReversePKsTest: a composite natural key (code, status).
struct NkAccount {
  std::int32_t code{};
  std::int32_t status{};
  std::string username;
};

} // namespace parity

// ---------------------------------------------------------------- mappings
template <> struct retort::Model<parity::User> {
  static constexpr auto table = "p_users";
  static constexpr auto fields = fields_of(
      column("id", &parity::User::id, primary_key), column("name", &parity::User::name, String(30)),
      relationship("addresses", &parity::User::addresses, back_populates("user"),
                   order_by(&parity::Address::id)),
      relationship("orders", &parity::User::orders, back_populates("user"),
                   order_by(&parity::Order::id)));
};
template <> struct retort::Model<parity::Address> {
  static constexpr auto table = "p_addresses";
  static constexpr auto fields =
      fields_of(column("id", &parity::Address::id, primary_key),
                column("user_id", &parity::Address::user_id, foreign_key("p_users.id")),
                column("email_address", &parity::Address::email_address, String(50)),
                relationship("user", &parity::Address::user, back_populates("addresses")));
};
template <> struct retort::Model<parity::Order> {
  static constexpr auto table = "p_orders";
  static constexpr auto fields =
      fields_of(column("id", &parity::Order::id, primary_key),
                column("user_id", &parity::Order::user_id, foreign_key("p_users.id")),
                column("description", &parity::Order::description, String(30)),
                column("isopen", &parity::Order::isopen),
                relationship("user", &parity::Order::user, back_populates("orders")),
                relationship("items", &parity::Order::items, secondary("p_order_items"),
                             back_populates("orders"), order_by(&parity::Item::id)));
};
template <> struct retort::Model<parity::Item> {
  static constexpr auto table = "p_items";
  static constexpr auto fields =
      fields_of(column("id", &parity::Item::id, primary_key),
                column("description", &parity::Item::description, String(30)),
                relationship("orders", &parity::Item::orders, secondary("p_order_items"),
                             back_populates("items"), order_by(&parity::Order::id)),
                relationship("keywords", &parity::Item::keywords, secondary("p_item_keywords"),
                             back_populates("items"), order_by(&parity::Keyword::id)));
};
template <> struct retort::Model<parity::Keyword> {
  static constexpr auto table = "p_keywords";
  static constexpr auto fields =
      fields_of(column("id", &parity::Keyword::id, primary_key),
                column("name", &parity::Keyword::name, String(30)),
                relationship("items", &parity::Keyword::items, secondary("p_item_keywords"),
                             back_populates("keywords"), order_by(&parity::Item::id)));
};
template <> struct retort::Model<parity::OrderItem> {
  static constexpr auto table = "p_order_items";
  static constexpr auto fields = fields_of(
      column("item_id", &parity::OrderItem::item_id, primary_key, foreign_key("p_items.id")),
      column("order_id", &parity::OrderItem::order_id, primary_key, foreign_key("p_orders.id")));
};
template <> struct retort::Model<parity::ItemKeyword> {
  static constexpr auto table = "p_item_keywords";
  static constexpr auto fields = fields_of(
      column("item_id", &parity::ItemKeyword::item_id, primary_key, foreign_key("p_items.id")),
      column("keyword_id", &parity::ItemKeyword::keyword_id, primary_key,
             foreign_key("p_keywords.id")));
};
template <> struct retort::Model<parity::Node> {
  static constexpr auto table = "p_nodes";
  static constexpr auto fields =
      fields_of(column("id", &parity::Node::id, primary_key),
                column("parent_id", &parity::Node::parent_id, foreign_key("p_nodes.id")),
                column("data", &parity::Node::data, String(30)),
                relationship("parent", &parity::Node::parent, back_populates("children")),
                relationship("children", &parity::Node::children, back_populates("parent"),
                             order_by(&parity::Node::id)));
};

template <> struct retort::Model<parity::CoUser> {
  static constexpr auto table = "p_co_users";
  static constexpr auto fields =
      fields_of(column("id", &parity::CoUser::id, primary_key),
                column("name", &parity::CoUser::name, String(30)),
                relationship("addresses", &parity::CoUser::addresses, back_populates("user"),
                             order_by(&parity::CoAddress::id), cascade_all_delete_orphan),
                relationship("orders", &parity::CoUser::orders, order_by(&parity::CoOrder::id),
                             cascade_all_delete_orphan));
};
template <> struct retort::Model<parity::CoAddress> {
  static constexpr auto table = "p_co_addresses";
  static constexpr auto fields =
      fields_of(column("id", &parity::CoAddress::id, primary_key),
                column("user_id", &parity::CoAddress::user_id, foreign_key("p_co_users.id")),
                column("email_address", &parity::CoAddress::email_address, String(50)),
                relationship("user", &parity::CoAddress::user, back_populates("addresses")));
};
template <> struct retort::Model<parity::CoOrder> {
  static constexpr auto table = "p_co_orders";
  static constexpr auto fields =
      fields_of(column("id", &parity::CoOrder::id, primary_key),
                column("user_id", &parity::CoOrder::user_id, foreign_key("p_co_users.id")),
                column("description", &parity::CoOrder::description, String(30)));
};

template <> struct retort::Model<parity::CdUser> {
  static constexpr auto table = "p_cd_users";
  static constexpr auto fields =
      fields_of(column("id", &parity::CdUser::id, primary_key),
                column("name", &parity::CdUser::name, String(30)),
                relationship("orders", &parity::CdUser::orders, back_populates("user"),
                             order_by(&parity::CdOrder::id),
                             cascade(cascade_save_update | cascade_merge | cascade_delete)));
};
template <> struct retort::Model<parity::CdOrder> {
  static constexpr auto table = "p_cd_orders";
  static constexpr auto fields =
      fields_of(column("id", &parity::CdOrder::id, primary_key),
                column("user_id", &parity::CdOrder::user_id, foreign_key("p_cd_users.id")),
                column("description", &parity::CdOrder::description, String(30)),
                relationship("user", &parity::CdOrder::user, back_populates("orders")));
};

template <> struct retort::Model<parity::TNode> {
  static constexpr auto table = "p_tnodes";
  static constexpr auto fields =
      fields_of(column("id", &parity::TNode::id, primary_key),
                column("parent_id", &parity::TNode::parent_id, foreign_key("p_tnodes.id")),
                column("name", &parity::TNode::name, String(30)),
                relationship("parent", &parity::TNode::parent, back_populates("children")),
                relationship("children", &parity::TNode::children, back_populates("parent"),
                             order_by(&parity::TNode::id), cascade_all_delete_orphan));
};

template <> struct retort::Model<parity::MA> {
  static constexpr auto table = "p_m2m_a";
  static constexpr auto fields = fields_of(
      column("id", &parity::MA::id, primary_key), column("data", &parity::MA::data, String(30)),
      relationship("bs", &parity::MA::bs, secondary("p_m2m_atob"), order_by(&parity::MB::id),
                   cascade_all_delete_orphan));
};
template <> struct retort::Model<parity::MB> {
  static constexpr auto table = "p_m2m_b";
  static constexpr auto fields = fields_of(
      column("id", &parity::MB::id, primary_key), column("data", &parity::MB::data, String(30)),
      relationship("cs", &parity::MB::cs, secondary("p_m2m_btoc"), order_by(&parity::MC::id),
                   cascade_all_delete_orphan));
};
template <> struct retort::Model<parity::MC> {
  static constexpr auto table = "p_m2m_c";
  static constexpr auto fields = fields_of(column("id", &parity::MC::id, primary_key),
                                           column("data", &parity::MC::data, String(30)));
};
template <> struct retort::Model<parity::MAtoB> {
  static constexpr auto table = "p_m2m_atob";
  static constexpr auto fields =
      fields_of(column("aid", &parity::MAtoB::aid, primary_key, foreign_key("p_m2m_a.id")),
                column("bid", &parity::MAtoB::bid, primary_key, foreign_key("p_m2m_b.id")));
};
template <> struct retort::Model<parity::MBtoC> {
  static constexpr auto table = "p_m2m_btoc";
  static constexpr auto fields =
      fields_of(column("bid", &parity::MBtoC::bid, primary_key, foreign_key("p_m2m_b.id")),
                column("cid", &parity::MBtoC::cid, primary_key, foreign_key("p_m2m_c.id")));
};

template <> struct retort::Model<parity::NkUser> {
  static constexpr auto table = "p_nk_users";
  static constexpr auto fields =
      fields_of(column("username", &parity::NkUser::username, primary_key, String(50)),
                column("fullname", &parity::NkUser::fullname, String(100)),
                relationship("addresses", &parity::NkUser::addresses, back_populates("user"),
                             order_by(&parity::NkAddress::email)),
                relationship("items", &parity::NkUser::items, secondary("p_nk_users_items"),
                             back_populates("users"), order_by(&parity::NkItem::itemname)));
};
template <> struct retort::Model<parity::NkAddress> {
  static constexpr auto table = "p_nk_addresses";
  static constexpr auto fields =
      fields_of(column("email", &parity::NkAddress::email, primary_key, String(50)),
                column("username", &parity::NkAddress::username, String(50),
                       foreign_key("p_nk_users.username")),
                relationship("user", &parity::NkAddress::user, back_populates("addresses")));
};
template <> struct retort::Model<parity::NkItem> {
  static constexpr auto table = "p_nk_items";
  static constexpr auto fields =
      fields_of(column("itemname", &parity::NkItem::itemname, primary_key, String(50)),
                column("description", &parity::NkItem::description, String(100)),
                relationship("users", &parity::NkItem::users, secondary("p_nk_users_items"),
                             back_populates("items"), order_by(&parity::NkUser::username)));
};
template <> struct retort::Model<parity::NkUserItem> {
  static constexpr auto table = "p_nk_users_items";
  static constexpr auto fields =
      fields_of(column("username", &parity::NkUserItem::username, primary_key, String(50),
                       foreign_key("p_nk_users.username")),
                column("itemname", &parity::NkUserItem::itemname, primary_key, String(50),
                       foreign_key("p_nk_items.itemname")));
};
template <> struct retort::Model<parity::NkNode> {
  static constexpr auto table = "p_nk_nodes";
  static constexpr auto fields = fields_of(
      column("name", &parity::NkNode::name, primary_key, String(50)),
      column("parent", &parity::NkNode::parent, String(50), foreign_key("p_nk_nodes.name")),
      relationship("parent_node", &parity::NkNode::parent_node, back_populates("children")),
      relationship("children", &parity::NkNode::children, back_populates("parent_node"),
                   order_by(&parity::NkNode::name)));
};
template <> struct retort::Model<parity::NkAccount> {
  static constexpr auto table = "p_nk_accounts";
  static constexpr auto fields =
      fields_of(column("code", &parity::NkAccount::code, primary_key, no_autoincrement),
                column("status", &parity::NkAccount::status, primary_key, no_autoincrement),
                column("username", &parity::NkAccount::username, String(50)));
};

namespace parity {

/// The `p_` tables, children first.
inline std::vector<retort::Table> tables_children_first() {
  // Association classes that no test names still have to be mapped to exist.
  (void)retort::mapper_of<OrderItem>();
  (void)retort::mapper_of<ItemKeyword>();
  (void)retort::mapper_of<MAtoB>();
  (void)retort::mapper_of<MBtoC>();
  (void)retort::mapper_of<NkUserItem>();
  std::vector<retort::Table> out;
  for (const retort::Table& t : retort::metadata().tables().tables_in_dependency_order())
    if (t.name().rfind("p_", 0) == 0) out.push_back(t);
  return {out.rbegin(), out.rend()};
}

/// Empty `p_` tables for one test case: created once per process, emptied per case (cheaper
/// than DDL per case). Keys are not reset: cases compare with the objects' own keys.
struct Fresh {
  Fresh() {
    static const std::vector<retort::Table> tables = tables_children_first();
    retort::MetaData md;
    for (const auto& t : tables)
      md.add(t);
    retort::create_all(conformance::engine(), md, true);
    auto conn = conformance::engine().connect();
    auto tx = conn.begin();
    for (const auto& t : tables)
      conn.execute(retort::delete_(t));
    tx.commit();
  }
};

/// The mapped table called `name` (a copy: metadata() assembles its MetaData on each call).
inline retort::Table ptable(const char* name) { return retort::metadata().tables().get(name); }

/// The rows of `table` read through the Core on a connection of its own: the listed columns
/// as text joined with '|' (NULL for none), ordered by the first column.
inline std::vector<std::string> rows(const char* table, std::vector<std::string> columns) {
  const retort::Table t = ptable(table);
  auto conn = conformance::engine().connect();
  std::vector<std::string> out;
  retort::Select all;
  for (const auto& c : columns)
    all = std::move(all).add_columns(retort::cast(t.c(c), retort::Text));
  all = std::move(all).order_by(t.c(columns[0]));
  for (const retort::Row& row : conn.execute(all)) {
    std::string line;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) line += '|';
      line += row.is_null(int(i)) ? "NULL" : row.get<std::string>(int(i));
    }
    out.push_back(line);
  }
  return out;
}

/// Number of rows of `table`, through the Core on a connection of its own.
inline std::int64_t count(const char* table) {
  const retort::Table t = ptable(table);
  auto conn = conformance::engine().connect();
  return conn.execute(retort::select(retort::count()).select_from(t)).scalar<std::int64_t>();
}

/// The text of an integer key, to compare with rows().
inline std::string str(std::int64_t v) { return std::to_string(v); }

/// A new object the application holds, as SQLAlchemy's User(name=...) is.
template <typename T> std::shared_ptr<T> make(T value) {
  return std::make_shared<T>(std::move(value));
}

} // namespace parity

namespace parity {

/// _fixtures.FixtureTest's data, smaller: jack (1 address, orders 1 and 3), ed (3 addresses,
/// no order), fred (1 address, order 2), chuck (nothing); orders hold items, items keywords.
struct FixtureData {
  Fresh fresh;
  std::int64_t jack = 0, ed = 0, fred = 0, chuck = 0;
  FixtureData() {
    retort::Session sess(conformance::engine());
    auto j = make(User{.name = "jack"});
    auto e = make(User{.name = "ed"});
    auto f = make(User{.name = "fred"});
    auto c = make(User{.name = "chuck"});
    j->addresses.push_back(make(Address{.email_address = "jack@bean.com"}));
    for (const char* email : {"ed@wood.com", "ed@bettyboop.com", "ed@lala.com"})
      e->addresses.push_back(make(Address{.email_address = email}));
    f->addresses.push_back(make(Address{.email_address = "fred@fred.com"}));
    auto blue = make(Keyword{.name = "blue"});
    auto red = make(Keyword{.name = "red"});
    auto round = make(Keyword{.name = "round"});
    auto i1 = make(Item{.description = "item 1"});
    auto i2 = make(Item{.description = "item 2"});
    auto i3 = make(Item{.description = "item 3"});
    auto o1 = make(Order{.description = "order 1", .isopen = 0});
    auto o2 = make(Order{.description = "order 2", .isopen = 1});
    auto o3 = make(Order{.description = "order 3", .isopen = 0});
    j->orders.push_back(o1);
    f->orders.push_back(o2);
    j->orders.push_back(o3);
    for (auto& u : {j, e, f, c})
      sess.add(u);
    for (auto& k : {blue, red, round})
      sess.add(k);
    for (auto& i : {i1, i2, i3})
      sess.add(i);
    sess.commit();
    // The many-to-many links between persistent objects, in a second flush.
    i1->keywords = retort::Collection<Keyword>{blue, red};
    i2->keywords = retort::Collection<Keyword>{red, round};
    i3->keywords = retort::Collection<Keyword>{round};
    o1->items = retort::Collection<Item>{i1, i2};
    o2->items = retort::Collection<Item>{i2, i3};
    o3->items = retort::Collection<Item>{i3};
    sess.commit();
    jack = j->id;
    ed = e->id;
    fred = f->id;
    chuck = c->id;
  }
};

/// Email addresses of a user's loaded collection, in order.
inline std::vector<std::string> emails(const User& u) {
  std::vector<std::string> out;
  for (const auto& a : u.addresses)
    out.push_back(a->email_address);
  return out;
}

} // namespace parity
