// The models of the ORM conformance cases: the cheatsheet's User and Address, and one model per
// relationship shape the issue lists (cascades, trees, many-to-many, composite keys, all types).
#pragma once

#include "backend.hpp"

#include <retort/retort.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace models {

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

// One-to-many with cascade all, delete-orphan; children eager by selectin.
struct Child;
struct Parent {
  std::int64_t id{};
  std::string name;
  retort::Collection<Child> children;
};
struct Child {
  std::int64_t id{};
  std::string name;
  std::int64_t parent_id{};
  retort::Ref<Parent> parent;
};

// A tree: self-referential one-to-many / many-to-one.
struct Node {
  std::int64_t id{};
  std::string label;
  std::optional<std::int64_t> parent_id;
  retort::Ref<Node> parent;
  retort::Collection<Node> children;
};

// Many-to-many through an association table.
struct Course;
struct Student {
  std::int64_t id{};
  std::string name;
  retort::Collection<Course> courses;
};
struct Course {
  std::int64_t id{};
  std::string title;
  retort::Collection<Student> students;
};
struct Enrollment {
  std::int64_t student_id{};
  std::int64_t course_id{};
};

// A composite primary key, no generated key.
struct OrderLine {
  std::int64_t order_id{};
  std::int32_t line_no{};
  std::string product;
  double price{};
};

// Every supported member type.
struct Sample {
  std::int64_t id{};
  std::int16_t small{};
  std::int32_t medium{};
  double ratio{};
  bool flag{};
  std::string text;
  std::optional<std::string> maybe_text;
  retort::Blob bytes;
  retort::SqlDate day{};
  retort::SqlDateTime moment{};
  retort::SqlTime clock{};
  std::optional<double> maybe_number;
};

// A column the type allows to be empty but the table does not.
struct Ticket {
  std::int64_t id{};
  std::optional<std::string> code;
};

// Columns the database fills in when the object leaves them empty.
struct Event {
  std::int64_t id{};
  std::string name;
  std::optional<std::string> status;
  std::optional<int> priority;
};

// Nothing but a generated key: inserted with DEFAULT VALUES.
struct Marker {
  std::int64_t id{};
};

// A user-defined value type, mapped through a ColumnTraits specialisation (below).
struct Cents {
  std::int64_t value = 0;
  friend bool operator==(Cents, Cents) = default;
};

struct Invoice {
  std::int64_t id{};
  Cents total;
  std::optional<Cents> discount;
};

// Classical mapping: the table is a Core Table defined on its own, with a CHECK constraint.
struct Tag {
  std::int64_t id{};
  std::string label;
  int weight{};
};

inline const retort::Table& tags_table() {
  using namespace retort;
  static const Table table(
      "tags", Column("id", Integer).primary_key(), Column("label", String(20)).not_null().unique(),
      Column("weight", Integer).not_null(), CheckConstraint{"weight >= 0", "ck_tags_weight"});
  return table;
}

} // namespace models

// The traits hook: how Cents is read from a column and bound as a parameter.
template <> struct retort::ColumnTraits<models::Cents> {
  static constexpr SqlType sql_type = BigInteger;
  static constexpr bool nullable = false;
  static models::Cents read(const DriverStatement& row, int i) {
    if (row.is_null(i)) throw_unexpected_null(row, i);
    return models::Cents{row.get_int64(i)};
  }
  static Value to_value(models::Cents v) { return Value(v.value); }
};

template <> struct retort::Model<models::Invoice> {
  static constexpr auto table = "invoices";
  static constexpr auto fields = fields_of(column("id", &models::Invoice::id, primary_key),
                                           column("total", &models::Invoice::total),
                                           column("discount", &models::Invoice::discount));
};

template <> struct retort::Model<models::Event> {
  static constexpr auto table = "events";
  static constexpr auto fields =
      fields_of(column("id", &models::Event::id, primary_key), column("name", &models::Event::name),
                column("status", &models::Event::status, not_null, server_default("'new'")),
                column("priority", &models::Event::priority, server_default("5")));
};

template <> struct retort::Model<models::Marker> {
  static constexpr auto table = "markers";
  static constexpr auto fields = fields_of(column("id", &models::Marker::id, primary_key));
};

template <> struct retort::Model<models::Tag> {
  static const Table& schema() { return models::tags_table(); }
  static constexpr auto table = "tags";
  static constexpr auto fields =
      fields_of(column("id", &models::Tag::id), column("label", &models::Tag::label),
                column("weight", &models::Tag::weight));
};

template <> struct retort::Model<models::User> {
  static constexpr auto table = "users";
  static constexpr auto fields =
      fields_of(column("id", &models::User::id, primary_key),
                column("name", &models::User::name, String(50)), column("age", &models::User::age),
                relationship("addresses", &models::User::addresses, back_populates("user"),
                             order_by(&models::Address::id)));
};

template <> struct retort::Model<models::Address> {
  static constexpr auto table = "addresses";
  static constexpr auto fields =
      fields_of(column("id", &models::Address::id, primary_key),
                column("email", &models::Address::email, String(100)),
                column("user_id", &models::Address::user_id, foreign_key("users.id")),
                relationship("user", &models::Address::user, back_populates("addresses")));
};

template <> struct retort::Model<models::Parent> {
  static constexpr auto table = "parents";
  static constexpr auto fields = fields_of(
      column("id", &models::Parent::id, primary_key), column("name", &models::Parent::name),
      relationship("children", &models::Parent::children, back_populates("parent"),
                   order_by(&models::Child::id), cascade_all_delete_orphan,
                   lazy(LoadStrategy::selectin)));
};

template <> struct retort::Model<models::Child> {
  static constexpr auto table = "children";
  static constexpr auto fields =
      fields_of(column("id", &models::Child::id, primary_key), column("name", &models::Child::name),
                column("parent_id", &models::Child::parent_id,
                       foreign_key("parents.id", ReferentialAction::cascade)),
                relationship("parent", &models::Child::parent, back_populates("children")));
};

template <> struct retort::Model<models::Node> {
  static constexpr auto table = "nodes";
  static constexpr auto fields =
      fields_of(column("id", &models::Node::id, primary_key), column("label", &models::Node::label),
                column("parent_id", &models::Node::parent_id, foreign_key("nodes.id")),
                relationship("parent", &models::Node::parent, back_populates("children")),
                relationship("children", &models::Node::children, back_populates("parent"),
                             order_by(&models::Node::id)));
};

template <> struct retort::Model<models::Student> {
  static constexpr auto table = "students";
  static constexpr auto fields = fields_of(
      column("id", &models::Student::id, primary_key), column("name", &models::Student::name),
      relationship("courses", &models::Student::courses, secondary("enrollments"),
                   back_populates("students"), order_by(&models::Course::id)));
};

template <> struct retort::Model<models::Course> {
  static constexpr auto table = "courses";
  static constexpr auto fields = fields_of(
      column("id", &models::Course::id, primary_key), column("title", &models::Course::title),
      relationship("students", &models::Course::students, secondary("enrollments"),
                   back_populates("courses"), order_by(&models::Student::id)));
};

template <> struct retort::Model<models::Enrollment> {
  static constexpr auto table = "enrollments";
  static constexpr auto fields = fields_of(
      column("student_id", &models::Enrollment::student_id, primary_key,
             foreign_key("students.id")),
      column("course_id", &models::Enrollment::course_id, primary_key, foreign_key("courses.id")));
};

template <> struct retort::Model<models::OrderLine> {
  static constexpr auto table = "order_lines";
  static constexpr auto fields = fields_of(
      column("order_id", &models::OrderLine::order_id, primary_key),
      column("line_no", &models::OrderLine::line_no, primary_key),
      column("product", &models::OrderLine::product), column("price", &models::OrderLine::price));
};

template <> struct retort::Model<models::Sample> {
  static constexpr auto table = "samples";
  static constexpr auto fields = fields_of(
      column("id", &models::Sample::id, primary_key), column("small", &models::Sample::small),
      column("medium", &models::Sample::medium), column("ratio", &models::Sample::ratio),
      column("flag", &models::Sample::flag), column("text", &models::Sample::text, Text),
      column("maybe_text", &models::Sample::maybe_text), column("bytes", &models::Sample::bytes),
      column("day", &models::Sample::day), column("moment", &models::Sample::moment),
      column("clock", &models::Sample::clock),
      column("maybe_number", &models::Sample::maybe_number));
};

template <> struct retort::Model<models::Ticket> {
  static constexpr auto table = "tickets";
  static constexpr auto fields = fields_of(column("id", &models::Ticket::id, primary_key),
                                           column("code", &models::Ticket::code, not_null));
};

namespace conformance {

/// Fresh tables for every ORM test case.
struct FreshSchema {
  FreshSchema() {
    // Touch every model so that metadata() has them even in a test that uses few.
    (void)retort::mapper_of<models::User>();
    (void)retort::mapper_of<models::Address>();
    (void)retort::mapper_of<models::Parent>();
    (void)retort::mapper_of<models::Child>();
    (void)retort::mapper_of<models::Node>();
    (void)retort::mapper_of<models::Student>();
    (void)retort::mapper_of<models::Course>();
    (void)retort::mapper_of<models::Enrollment>();
    (void)retort::mapper_of<models::OrderLine>();
    (void)retort::mapper_of<models::Sample>();
    (void)retort::mapper_of<models::Ticket>();
    (void)retort::mapper_of<models::Tag>();
    (void)retort::mapper_of<models::Invoice>();
    (void)retort::mapper_of<models::Marker>();
    (void)retort::mapper_of<models::Event>();
    retort::metadata().drop_all(engine());
    retort::metadata().create_all(engine());
  }
};

} // namespace conformance
