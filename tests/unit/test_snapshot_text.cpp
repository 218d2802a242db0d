// SnapshotText: the copy of a string member kept for change detection and rollback, inline up
// to its capacity and on the heap beyond it. Both sides of the boundary, in both directions.
#include <retort/orm/detail/snapshot_text.hpp>

#include <catch2/catch.hpp>

#include <string>

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

TEST_CASE("snapshot text: a change of any one byte is seen, at every length") {
  // The comparison reads words, overlapping at the tail: check every position of every length
  // around the word and inline boundaries.
  for (std::size_t length = 0; length <= 80; ++length) {
    std::string text;
    for (std::size_t i = 0; i < length; ++i)
      text += static_cast<char>('a' + i % 26);
    const SnapshotText snapshot(text);
    REQUIRE(text == snapshot);
    for (std::size_t i = 0; i < length; ++i) {
      std::string changed = text;
      changed[i] = '#';
      CHECK_FALSE(changed == snapshot);
    }
    CHECK_FALSE(text + "x" == snapshot);
  }
}

TEST_CASE("snapshot text: assigning a view of itself, inline and on the heap") {
  // Nothing in the ORM does this today, but operator= takes any view: the text must be copied
  // before the block it lives in is freed or overwritten.
  const std::string long_text = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"; // 44 bytes
  SnapshotText snapshot(long_text);
  snapshot = snapshot.view().substr(30); // heap -> inline, from the heap block being freed
  CHECK(std::string(long_text.substr(30)) == snapshot);
  snapshot = long_text;
  snapshot = snapshot.view().substr(4); // heap -> heap, overlapping within one block
  CHECK(std::string(long_text.substr(4)) == snapshot);
  snapshot = std::string_view("inline text here");
  snapshot = snapshot.view().substr(2); // inline -> inline, overlapping
  CHECK(std::string("line text here") == snapshot);
}
