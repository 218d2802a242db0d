// Rollback and failure, refresh/expire/expunge/merge, composite keys, every member type, and
// misuse that must give typed errors.
#include "models.hpp"

#include <catch2/catch.hpp>

using namespace retort;
using namespace models;

TEST_CASE("a failed flush rolls back everything and the session recovers", "[orm][failure]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto first = session.add(OrderLine{.order_id = 1, .line_no = 1, .product = "a", .price = 1.5});
  session.commit();

  auto user = session.add(User{.name = "new", .age = 3});
  session.add(OrderLine{.order_id = 1, .line_no = 2, .product = "b", .price = 2});
  session.add(OrderLine{.order_id = 1, .line_no = 1, .product = "dup", .price = 0}); // same key
  CHECK_THROWS_AS(session.flush(), IntegrityError);
  CHECK(user->id == 0);                                              // the generated key was undone
  CHECK_THROWS_AS(session.query<User>().count(), InvalidStateError); // rollback() first
  session.rollback();
  CHECK(session.state_of(user) == ObjectState::transient); // as SQLAlchemy: pending → transient
  CHECK(session.query<User>().count() == 0);               // nothing partial was left
  CHECK(session.query<OrderLine>().count() == 1);
  session.add(user);
  session.commit();
  CHECK(session.query<User>().count() == 1);
}

TEST_CASE("rollback restores deleted objects and expires changed ones", "[orm][failure]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto ann = session.add(User{.name = "ann", .age = 1});
  auto bob = session.add(User{.name = "bob", .age = 2});
  session.commit();
  ann->age = 99;
  session.remove(bob);
  session.flush();
  session.rollback();
  CHECK(session.state_of(bob) == ObjectState::persistent);
  CHECK(session.query<User>().count() == 2);
  auto again = session.get<User>(ann->id); // expired: reloaded from the database
  CHECK(again == ann);
  CHECK(ann->age == 1);
}

TEST_CASE("an object inserted and deleted in one transaction is transient after rollback",
          "[orm][failure]") {
  // Both its INSERT and its DELETE are undone: it never existed, as SQLAlchemy has it (the
  // pending state takes precedence over the deleted one).
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto kept = session.add(User{.name = "kept", .age = 1});
  session.commit();
  auto ann = session.add(User{.name = "ann", .age = 30});
  session.flush();
  session.remove(ann);
  session.remove(kept);
  session.flush();
  session.rollback();
  CHECK(session.state_of(ann) == ObjectState::transient);
  CHECK(ann->id == 0); // its generated key undone with its INSERT
  CHECK(session.state_of(kept) == ObjectState::persistent); // only its DELETE was undone
  CHECK(session.query<User>().count() == 1);                // and nothing fails to autoflush
  session.add(ann);
  session.commit();
  CHECK(ann->id != 0);
  CHECK(session.query<User>().count() == 2);
}

TEST_CASE("refresh, expire, expunge and merge", "[orm][lifecycle]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine(), SessionOptions{.expire_on_commit = false});
  auto user = session.add(User{.name = "x", .age = 5});
  session.commit();
  {
    Session other(conformance::engine());
    other.get<User>(user->id)->age = 6;
    other.commit();
  }
  CHECK(session.get<User>(user->id)->age == 5); // identity map: no SQL, old value
  session.refresh(user);
  CHECK(user->age == 6);
  user->name = "local change";
  session.refresh(user); // discards unflushed changes
  CHECK(user->name == "x");

  session.expire(user);
  CHECK(session.get<User>(user->id) == user); // reloaded, same object

  session.expunge(user);
  CHECK(session.state_of(user) == ObjectState::detached);
  auto fresh = session.get<User>(user->id);
  CHECK(fresh != user);

  User detached_copy = *fresh;
  detached_copy.age = 77;
  auto merged = session.merge(detached_copy);
  CHECK(merged == fresh);
  CHECK(fresh->age == 77);
  auto created = session.merge(User{.name = "merged-new", .age = 1});
  CHECK(session.state_of(created) == ObjectState::pending);
  session.commit();
  CHECK(created->id > 0);
}

TEST_CASE("composite primary keys", "[orm][identity][composite]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  session.add(OrderLine{.order_id = 7, .line_no = 1, .product = "p1", .price = 1});
  session.add(OrderLine{.order_id = 7, .line_no = 2, .product = "p2", .price = 2});
  session.commit();
  auto line = session.get<OrderLine>(7, 2);
  REQUIRE(line);
  CHECK(line->product == "p2");
  CHECK(session.get<OrderLine>(7, 2) == line);
  CHECK_THROWS_AS(session.get<OrderLine>(7), ArgumentError); // wrong arity
  line->price = 3.25;
  session.commit();
  Session other(conformance::engine());
  CHECK(other.get<OrderLine>(7, 2)->price == 3.25);
  other.remove(other.get<OrderLine>(7, 1));
  other.commit();
  CHECK(other.query<OrderLine>().count() == 1);
}

TEST_CASE("every member type round-trips", "[orm][types]") {
  conformance::FreshSchema schema;
  using namespace std::chrono;
  const SqlDate day = sys_days(year{2024} / 2 / 29);
  const SqlDateTime moment =
      sys_days(year{2023} / 12 / 31) + hours(23) + minutes(59) + seconds(58) + microseconds(123456);
  const SqlTime clock = hours(7) + minutes(6) + seconds(5) + microseconds(4);
  std::int64_t id = 0;
  {
    Session session(conformance::engine());
    auto s = session.add(Sample{.small = -32768,
                                .medium = 2147483647,
                                .ratio = 0.125,
                                .flag = true,
                                .text = "it's \"quoted\" ünïcode",
                                .maybe_text = std::nullopt,
                                .bytes = Blob{std::byte{0}, std::byte{0xff}, std::byte{0x5c}},
                                .day = day,
                                .moment = moment,
                                .clock = clock,
                                .maybe_number = 2.5});
    session.commit();
    id = s->id;
  }
  Session session(conformance::engine());
  auto s = session.get<Sample>(id);
  REQUIRE(s);
  CHECK(s->small == -32768);
  CHECK(s->medium == 2147483647);
  CHECK(s->ratio == 0.125);
  CHECK(s->flag);
  CHECK(s->text == "it's \"quoted\" ünïcode");
  CHECK_FALSE(s->maybe_text);
  CHECK(s->bytes == Blob{std::byte{0}, std::byte{0xff}, std::byte{0x5c}});
  CHECK(s->day == day);
  CHECK(s->moment == moment);
  CHECK(s->clock == clock);
  CHECK(s->maybe_number == 2.5);
  // Unchanged after load: no UPDATE at flush.
  conformance::StatementCounter counter;
  session.flush();
  CHECK(counter.count() == 0);
}

TEST_CASE("misuse gets typed errors", "[orm][errors]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto user = session.add(User{.name = "x"});
  session.commit();
  session.close();
  CHECK_THROWS_AS(session.query<User>().all(), InvalidStateError);
  CHECK_THROWS_AS(session.add(User{.name = "late"}), InvalidStateError);

  Session fresh(conformance::engine());
  auto loaded = fresh.get<User>(user->id);
  fresh.close();
  CHECK_THROWS_AS(loaded->addresses.size(), InvalidStateError); // lazy load on detached

  Session another(conformance::engine());
  CHECK_THROWS_AS(another.get<User>(1, 2), ArgumentError); // key arity
  auto other = another.get<User>(user->id);
  other->id = 12345;
  CHECK_THROWS_AS(another.flush(), ArgumentError); // primary keys are not updated
}

TEST_CASE("a required column left NULL is refused before any SQL", "[orm][errors]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  // Only members that can hold NULL need the check: User's age (an optional), not its name.
  CHECK(mapper_of<User>().nullable_members() == 0b100);
  CHECK(mapper_of<models::Ticket>().nullable_members() == 0b10);
  session.add(models::Ticket{.code = std::nullopt});
  conformance::StatementCounter counter;
  CHECK_THROWS_AS(session.flush(), InvalidStateError);
  CHECK(counter.count() == 0);
  session.rollback();
  // A NOT NULL foreign key the database checks: IntegrityError from the database itself.
  session.add(Child{.name = "orphan", .parent_id = 424242});
  CHECK_THROWS_AS(session.flush(), IntegrityError);
  session.rollback();
  CHECK(session.query<Child>().count() == 0);
}

TEST_CASE("classical mapping onto a Core table", "[orm][mapping]") {
  conformance::FreshSchema schema;
  const MapperBase& mapper = mapper_of<Tag>();
  REQUIRE(mapper.columns().size() == 3);
  CHECK(mapper.columns()[0].primary_key);
  CHECK(mapper.autoincrement_column() == std::size_t{0});
  CHECK(mapper.columns()[1].unique);
  CHECK(mapper.columns()[1].type == String(20));
  CHECK_FALSE(mapper.columns()[2].nullable);

  Session session(conformance::engine());
  auto tag = session.add(Tag{.label = "red", .weight = 3});
  session.commit();
  CHECK(tag->id > 0);
  CHECK(session.query<Tag>().filter(col(&Tag::weight) > 2).one() == tag);
  session.add(Tag{.label = "negative", .weight = -1});
  CHECK_THROWS_AS(session.flush(), IntegrityError); // the Core table's CHECK constraint
  session.rollback();
  session.add(Tag{.label = "red", .weight = 1});
  CHECK_THROWS_AS(session.flush(), IntegrityError); // its UNIQUE constraint
  session.rollback();
}

TEST_CASE("user-defined value types map through ColumnTraits", "[orm][types]") {
  conformance::FreshSchema schema;
  std::int64_t id = 0;
  {
    Session session(conformance::engine());
    auto invoice = session.add(Invoice{.total = Cents{12345}, .discount = Cents{500}});
    session.commit();
    id = invoice->id;
  }
  Session session(conformance::engine());
  auto invoice = session.get<Invoice>(id);
  CHECK(invoice->total == Cents{12345});
  CHECK(invoice->discount == Cents{500});
  CHECK(session.query<Invoice>().filter(col(&Invoice::total) == Cents{12345}).count() == 1);
  invoice->discount = std::nullopt;
  session.commit();
  Session other(conformance::engine());
  CHECK_FALSE(other.get<Invoice>(id)->discount.has_value());
}

TEST_CASE("a row with nothing but a generated key", "[orm][unit-of-work]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto a = session.add(models::Marker{});
  auto b = session.add(models::Marker{});
  session.commit();
  CHECK(a->id > 0);
  CHECK(b->id > a->id);
  CHECK(session.query<models::Marker>().count() == 2);
}

TEST_CASE("a failing UPDATE among batched ones rolls the whole flush back",
          "[orm][failure][batching]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  std::vector<std::shared_ptr<Tag>> tags;
  for (int i = 0; i < 20; ++i)
    tags.push_back(session.add(Tag{.label = "t" + std::to_string(i), .weight = i}));
  session.commit();
  for (auto& tag : tags)
    tag->weight += 100;
  tags[10]->label = "t3"; // UNIQUE violation in the middle of the batch
  CHECK_THROWS_AS(session.flush(), IntegrityError);
  session.rollback();
  {
    Session check(conformance::engine());
    CHECK(check.query<Tag>().filter(col(&Tag::weight) >= 100).count() == 0); // nothing partial
  }
  // The same statement shapes work again afterwards (on PostgreSQL: the prepared names).
  for (auto& tag : session.query<Tag>().all())
    tag->weight += 1000;
  session.commit();
  Session check(conformance::engine());
  CHECK(check.query<Tag>().filter(col(&Tag::weight) >= 1000).count() == 20);
}

TEST_CASE("server defaults are filled into objects after insert", "[orm][unit-of-work]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto plain = session.add(models::Event{.name = "plain"});
  auto urgent = session.add(models::Event{.name = "urgent", .status = "open", .priority = 1});
  session.flush();
  CHECK(plain->id > 0);
  CHECK(plain->status == "new"); // NOT NULL, left empty: the database's default
  CHECK(plain->priority == 5);
  CHECK(urgent->status == "open"); // set: not overridden
  CHECK(urgent->priority == 1);
  session.commit();
  Session other(conformance::engine());
  CHECK(other.get<models::Event>(plain->id)->status == "new");
}

TEST_CASE("commit of a lone INSERT: keys and defaults arrive; a failure commits nothing",
          "[orm][failure]") {
  // A flush that is one INSERT and nothing else travels with the COMMIT on PostgreSQL (one
  // round trip): its results must still reach the object, and its failure must stop the COMMIT.
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto event = session.add(Event{.name = "launch"});
  session.commit();
  CHECK(event->id > 0);
  CHECK(event->status == "new"); // server defaults returned with the key
  CHECK(event->priority == 5);
  CHECK(session.state_of(event) == ObjectState::persistent);

  auto tag = session.add(Tag{.label = "red", .weight = 3});
  session.commit();
  auto clash = session.add(Tag{.label = "red", .weight = 1}); // UNIQUE label
  CHECK_THROWS_AS(session.commit(), IntegrityError);
  CHECK(clash->id == 0);                                            // no key was kept
  CHECK_THROWS_AS(session.query<Tag>().count(), InvalidStateError); // rollback() first
  session.rollback();
  CHECK(session.state_of(clash) == ObjectState::transient);
  auto blue = session.add(Tag{.label = "blue", .weight = 2});
  session.commit();
  CHECK(session.state_of(blue) == ObjectState::persistent);

  Session other(conformance::engine());
  CHECK(other.query<Tag>().count() == 2);
  CHECK(other.query<Event>().count() == 1);
  CHECK(other.get<Tag>(tag->id)->label == "red");
}

TEST_CASE("changes to short and long text are found, flushed and undone by rollback",
          "[orm][failure]") {
  // Snapshots keep short text inline and long text on the heap: both must see a change of one
  // character, write it, and give the old value back on rollback.
  conformance::FreshSchema schema;
  const std::string long_name(48, 'n'); // beyond the inline snapshot, within varchar(50)
  Session session(conformance::engine(), SessionOptions{.expire_on_commit = false});
  auto shorty = session.add(User{.name = "ann", .age = 1});
  auto longy = session.add(User{.name = long_name, .age = 2});
  session.commit();

  shorty->name = "anne";
  longy->name.back() = 'm';
  session.commit(); // both UPDATEs go out
  {
    Session other(conformance::engine());
    CHECK(other.get<User>(shorty->id)->name == "anne");
    CHECK(other.get<User>(longy->id)->name == long_name.substr(0, 47) + "m");
  }

  longy->name = long_name + "-grown-even-longer";
  shorty->name = "a";
  session.rollback(); // unflushed changes go back to the last flushed values
  CHECK(shorty->name == "anne");
  CHECK(longy->name == long_name.substr(0, 47) + "m");
  const auto before = session.statements_executed();
  session.flush(); // nothing is left to write
  CHECK(session.statements_executed() == before);
}

namespace {

// Text columns the database lets be NULL, mapped onto plain std::string members (classical
// mapping: the table says nullable, the class does not).
struct LooseNote {
  std::int64_t id{};
  std::string title;
  std::string note;
};

const Table& loose_notes_table() {
  static const Table table("loose_notes", Column("id", Integer).primary_key(),
                           Column("title", String(100)), Column("note", String(100)));
  return table;
}

} // namespace

template <> struct retort::Model<LooseNote> {
  static const Table& schema() { return loose_notes_table(); }
  static constexpr auto table = "loose_notes";
  static constexpr auto fields =
      fields_of(column("id", &LooseNote::id), column("title", &LooseNote::title),
                column("note", &LooseNote::note));
};

TEST_CASE("a NULL loaded into a std::string member fails cleanly", "[orm][failure]") {
  // Loading builds a new object's members straight from the row: a read that fails half-way
  // must leave the object whole for its destructor (the title before it is a heap string).
  conformance::FreshSchema schema;
  {
    Session session(conformance::engine());
    session.add(LooseNote{.id = 1, .title = std::string(40, 't'), .note = "kept"});
    session.add(LooseNote{.id = 2, .title = std::string(40, 'u'), .note = "dropped"});
    session.commit();
    const Table& notes = loose_notes_table();
    session.connection().execute(update(notes).set("note", null()).where(notes.c("id") == 2));
    session.commit();
  }
  Session session(conformance::engine());
  CHECK_THROWS_AS(session.query<LooseNote>().order_by(col(&LooseNote::id)).all(), DataError);
  CHECK_THROWS_AS(session.get<LooseNote>(2), DataError);
  auto kept = session.get<LooseNote>(1);
  REQUIRE(kept != nullptr);
  CHECK(kept->title == std::string(40, 't'));
  CHECK(kept->note == "kept");
}

namespace {

// Deletes a tag's row behind the session's back, as another transaction would.
void delete_tag_row(std::int64_t id) {
  Connection conn = conformance::engine().connect();
  Transaction tx = conn.begin();
  conn.execute(delete_(tags_table()).where(tags_table().c("id") == Expr(id)));
  tx.commit();
}

std::vector<std::shared_ptr<Tag>> committed_tags(Session& session, int n) {
  std::vector<std::shared_ptr<Tag>> tags;
  for (int i = 0; i < n; ++i)
    tags.push_back(session.add(Tag{.label = "s" + std::to_string(i), .weight = i}));
  session.commit();
  return tags;
}

} // namespace

TEST_CASE("UPDATEs and DELETEs are each checked against the rows they changed",
          "[orm][failure][batching]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine(), SessionOptions{.expire_on_commit = false});
  auto tags = committed_tags(session, 6);

  SECTION("a flush of updates and a multi-row delete that all find their rows succeeds") {
    for (int i : {0, 2, 3})
      tags[std::size_t(i)]->weight += 100;
    session.remove(tags[4]);
    session.remove(tags[5]);
    session.commit();
    Session check(conformance::engine());
    CHECK(check.query<Tag>().filter(col(&Tag::weight) >= 100).count() == 3);
    CHECK(check.query<Tag>().count() == 4);
  }

  SECTION("an UPDATE among others whose row is gone fails the flush and writes nothing") {
    delete_tag_row(tags[2]->id);
    for (auto& tag : tags)
      tag->weight += 100;
    try {
      session.flush();
      FAIL("the flush succeeded");
    } catch (const InvalidStateError& e) {
      CHECK_THAT(std::string(e.what()),
                 Catch::Contains("UPDATE on table 'tags' expected to change 1 row(s) "
                                 "but changed 0"));
    }
    session.rollback();
    Session check(conformance::engine());
    CHECK(check.query<Tag>().filter(col(&Tag::weight) >= 100).count() == 0);
    CHECK(check.query<Tag>().count() == 5);
  }

  SECTION("a DELETE after good UPDATEs that finds one row of two fails the flush") {
    delete_tag_row(tags[5]->id);
    tags[0]->weight += 100;
    tags[1]->weight += 100;
    session.remove(tags[4]);
    session.remove(tags[5]);
    try {
      session.flush();
      FAIL("the flush succeeded");
    } catch (const InvalidStateError& e) {
      CHECK_THAT(std::string(e.what()),
                 Catch::Contains("DELETE on table 'tags' expected to change 2 row(s) "
                                 "but changed 1"));
    }
    session.rollback();
    Session check(conformance::engine());
    CHECK(check.query<Tag>().count() == 5); // tags[4] is still there
    CHECK(check.query<Tag>().filter(col(&Tag::weight) >= 100).count() == 0);
  }

  SECTION("after a failed flush the same statements check their rows again") {
    delete_tag_row(tags[1]->id);
    tags[1]->weight += 100;
    CHECK_THROWS_AS(session.flush(), InvalidStateError);
    session.rollback();
    auto again = session.query<Tag>().order_by(col(&Tag::id)).all();
    REQUIRE(again.size() == 5);
    for (auto& tag : again)
      tag->weight += 1000;
    session.commit();
    Session check(conformance::engine());
    CHECK(check.query<Tag>().filter(col(&Tag::weight) >= 1000).count() == 5);
  }
}

TEST_CASE("single-object commits of alternating INSERT shapes each get their own statement",
          "[orm][unit-of-work]") {
  // Consecutive INSERTs of one shape reuse what was worked out for the previous one; a change of
  // class or of the columns left to the database must not.
  conformance::FreshSchema schema;
  std::vector<std::shared_ptr<Event>> events;
  std::vector<std::shared_ptr<Tag>> tags;
  for (int round = 0; round < 3; ++round) {
    {
      Session session(conformance::engine());
      events.push_back(session.add(Event{.name = "plain"}));
      session.commit();
    }
    {
      Session session(conformance::engine());
      events.push_back(session.add(Event{.name = "urgent", .status = "open", .priority = 1}));
      session.commit();
    }
    {
      Session session(conformance::engine());
      tags.push_back(
          session.add(Tag{.id = 1000 + 10 * round, .label = "k" + std::to_string(round)}));
      session.commit();
    }
    {
      Session session(conformance::engine());
      tags.push_back(session.add(Tag{.label = "g" + std::to_string(round), .weight = round}));
      session.commit();
    }
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    const bool plain = i % 2 == 0;
    CHECK(events[i]->id > 0);
    CHECK(events[i]->status == (plain ? "new" : "open"));
    CHECK(events[i]->priority == (plain ? 5 : 1));
  }
  for (std::size_t i = 0; i < tags.size(); i += 2)
    CHECK(tags[i]->id == 1000 + 10 * static_cast<std::int64_t>(i / 2));
  Session check(conformance::engine());
  CHECK(check.query<Event>().filter(col(&Event::status) == "new").count() == 3);
  CHECK(check.query<Event>().filter(col(&Event::priority) == 1).count() == 3);
  CHECK(check.query<Tag>().count() == 6);
  for (std::size_t i = 1; i < tags.size(); i += 2) {
    CHECK(tags[i]->id > 0);
    CHECK(check.get<Tag>(tags[i]->id)->label == tags[i]->label);
  }
}
