// InlineText, as SnapshotText (the copy of a string member kept for change detection and
// rollback) and as IdentityKey (an object's encoded primary key): inline up to its capacity and
// on the heap beyond it. Both sides of the boundary, in both directions, for both kinds.
#include <retort/orm/detail/identity_key.hpp>
#include <retort/orm/detail/snapshot_text.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <utility>

using retort::detail::IdentityKey;
using retort::detail::SnapshotText;

TEST_CASE("snapshot text: inline and heap copies compare and restore exactly") {
  const std::string short_text = "customer name 12345";
  const std::string exact(SnapshotText::inline_capacity, 'x');
  const std::string long_text(SnapshotText::inline_capacity + 1, 'y');
  const std::string longer(200, 'z');

  SnapshotText snapshot(short_text);
  CHECK(short_text == snapshot);
  CHECK_FALSE(std::string("customer name 12346") == snapshot);
  CHECK_FALSE(std::string("customer name 1234") == snapshot); // a prefix is a change

  for (const std::string* text : {&exact, &long_text, &longer, &short_text, &long_text}) {
    snapshot = *text; // grows onto the heap and shrinks back inline
    CHECK(*text == snapshot);
    CHECK(snapshot.view().size() == text->size());
  }

  std::string member = "changed by the application";
  member = snapshot; // restore (rollback)
  CHECK(member == long_text);

  SnapshotText copy = snapshot;
  snapshot = std::string();
  CHECK(std::string() == snapshot);
  CHECK(long_text == copy); // copies own their text
}

TEMPLATE_TEST_CASE("inline text: a change of any one byte is seen, at every length", "",
                   SnapshotText, IdentityKey) {
  // The comparison reads words, overlapping at the tail: check every position of every length
  // around the word and inline boundaries.
  for (std::size_t length = 0; length <= 80; ++length) {
    std::string text;
    for (std::size_t i = 0; i < length; ++i)
      text += static_cast<char>('a' + i % 26);
    const TestType snapshot(text);
    REQUIRE(text == snapshot);
    for (std::size_t i = 0; i < length; ++i) {
      std::string changed = text;
      changed[i] = '#';
      CHECK_FALSE(changed == snapshot);
    }
    CHECK_FALSE(text + "x" == snapshot);
  }
}

TEMPLATE_TEST_CASE("inline text: assigning a view of itself, inline and on the heap", "",
                   SnapshotText, IdentityKey) {
  // Nothing in the ORM does this today, but operator= takes any view: the text must be copied
  // before the block it lives in is freed or overwritten.
  const std::string long_text = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"; // 44 bytes
  TestType snapshot(long_text);
  snapshot = snapshot.view().substr(30); // heap -> inline, from the heap block being freed
  CHECK(std::string(long_text.substr(30)) == snapshot);
  snapshot = long_text;
  snapshot = snapshot.view().substr(4); // heap -> heap, overlapping within one block
  CHECK(std::string(long_text.substr(4)) == snapshot);
  snapshot = std::string_view("inline text here");
  snapshot = snapshot.view().substr(2); // inline -> inline, overlapping
  CHECK(std::string("line text here") == snapshot);
}

TEMPLATE_TEST_CASE("inline text: moves hand the heap block over and leave the source empty", "",
                   SnapshotText, IdentityKey) {
  const std::string long_text(TestType::inline_capacity + 10, 'q');
  const std::string short_text = "short";
  for (const std::string* text : {&short_text, &long_text}) {
    TestType source(*text);
    const char* block = source.view().data();
    TestType moved(std::move(source));
    CHECK(*text == moved);
    CHECK(source.empty());
    if (text == &long_text) CHECK(moved.view().data() == block); // not copied
    TestType target(long_text);
    target = std::move(moved); // frees target's own block (ASan would see a leak)
    CHECK(*text == target);
    CHECK(moved.empty());
    target.clear();
    CHECK(target.empty());
    CHECK(target.view().empty());
  }
}

TEST_CASE("snapshot text: a heap block is reused for shorter text; a key's never is") {
  // A snapshot keeps its block's capacity, so rewriting a long member after each flush does not
  // allocate again; a key keeps none (16 bytes leave no room), so only same-length text reuses.
  const std::string long_text(60, 'a');
  const std::string shorter(40, 'b');
  SnapshotText snapshot(long_text);
  const char* block = snapshot.view().data();
  snapshot = shorter;
  CHECK(snapshot.view().data() == block);
  CHECK(shorter == snapshot);
  snapshot = long_text; // back to the block's full capacity
  CHECK(snapshot.view().data() == block);
  CHECK(long_text == snapshot);

  IdentityKey key(long_text);
  key = shorter;
  CHECK(shorter == key);
  key = std::string(40, 'c'); // the same length: written in place
  CHECK(std::string(40, 'c') == key);
}
