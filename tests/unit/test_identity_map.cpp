// The identity map's open-addressing table against std::map as the reference, through long
// random sequences of inserts and erasures (backward-shift deletion is easy to get subtly
// wrong: a lookup that stops at a wrongly emptied slot loses an object).
#include <retort/orm/detail/identity_map.hpp>

#include <catch2/catch.hpp>

#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

using retort::InstanceState;
using retort::detail::IdentityEntry;
using retort::detail::IdentityKey;
using retort::detail::IdentityMap;

namespace {

struct Fixture {
  std::deque<InstanceState> states; // stable addresses
  IdentityMap map;
  std::map<std::string, InstanceState*> reference;

  InstanceState& state(const std::string& key) {
    auto& s = states.emplace_back();
    s.identity = key;
    return s;
  }
  void check_all() {
    REQUIRE(map.size() == reference.size());
    for (const auto& [key, state] : reference) {
      IdentityEntry* found = map.find(key);
      REQUIRE(found != nullptr);
      CHECK(found->state == state);
    }
  }
};

} // namespace

TEST_CASE("identity map: find, try_emplace, insert_or_assign, erase") {
  Fixture f;
  auto& a = f.state("a");
  auto [entry, added] = f.map.try_emplace(IdentityEntry{nullptr, &a});
  CHECK(added);
  CHECK(entry->state == &a);
  auto& a2 = f.state("a");
  auto [again, added2] = f.map.try_emplace(IdentityEntry{nullptr, &a2});
  CHECK_FALSE(added2);
  CHECK(again->state == &a);
  f.map.insert_or_assign(IdentityEntry{nullptr, &a2});
  CHECK(f.map.find("a")->state == &a2);
  CHECK(f.map.size() == 1);
  CHECK(f.map.find("b") == nullptr);
  f.map.erase("b"); // absent: nothing happens
  f.map.erase("a");
  CHECK(f.map.find("a") == nullptr);
  CHECK(f.map.empty());
}

TEST_CASE("identity map: the short-key hash separates keys that differ in any byte") {
  // An integer key: a kind byte and the value's 8 bytes (see encode_identity()).
  std::string key(9, '\0');
  key[0] = 2;
  const std::uint64_t base = IdentityMap::hash(key);
  for (std::size_t byte = 0; byte < key.size(); ++byte)
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = key;
      flipped[byte] = static_cast<char>(flipped[byte] ^ (1 << bit));
      const std::uint64_t h = IdentityMap::hash(flipped);
      CHECK(h != base);
      CHECK((h & 0xffff) != (base & 0xffff)); // the low bits choose the slot
    }
}

TEST_CASE("identity map: random inserts and erasures agree with std::map") {
  Fixture f;
  std::mt19937 random(12345);
  for (int step = 0; step < 20000; ++step) {
    // Keys of 1 to 17 bytes: both the short-key hash (8 to 16 bytes) and std::hash.
    const unsigned n = random() % 3000;
    const std::string key = std::string(n % 13, 'p') + "k" + std::to_string(n);
    if (random() % 3 != 0) {
      const std::uint64_t hash = IdentityMap::hash(key);
      if (step % 2 == 0) {
        // One probe for the lookup and the insertion, as loading a row does.
        const IdentityMap::Probe probe = f.map.probe(key, hash);
        REQUIRE((probe.found != nullptr) == f.reference.contains(key));
        if (probe.found != nullptr) continue;
        auto& s = f.state(key);
        f.map.insert_at(probe, IdentityEntry{nullptr, &s}, hash);
        f.reference[key] = &s;
        continue;
      }
      auto& s = f.state(key);
      auto [entry, added] = f.map.try_emplace(IdentityEntry{nullptr, &s});
      REQUIRE(added == !f.reference.contains(key));
      if (added) f.reference[key] = &s;
      CHECK(entry->hash == hash);
    } else {
      f.map.erase(key);
      f.reference.erase(key);
    }
    if (step % 997 == 0) f.check_all();
  }
  f.check_all();
  // Erasing by position while walking, as the flush does when it lets clean objects go.
  for (std::size_t i = 0; i < f.map.size();) {
    if (f.map.at(i).state->identity.view().back() % 2 == 0) {
      f.reference.erase(std::string(f.map.at(i).state->identity.view()));
      f.map.erase_at(i);
      continue;
    }
    ++i;
  }
  f.check_all();
  f.map.clear();
  CHECK(f.map.find("k1") == nullptr);
}

TEST_CASE("identity map: a few entries without a table, then with one") {
  // Up to eight entries are found by walking them; the ninth builds the hash table. Keys come
  // and go around that size, by probe and insert_at, try_emplace, erase and erase_at.
  Fixture f;
  std::mt19937 random(777);
  for (int step = 0; step < 4000; ++step) {
    const std::string key = "k" + std::to_string(random() % 12);
    switch (random() % 4) {
    case 0: {
      const std::uint64_t hash = IdentityMap::hash(key);
      const IdentityMap::Probe probe = f.map.probe(key, hash);
      REQUIRE((probe.found != nullptr) == f.reference.contains(key));
      if (probe.found != nullptr) break;
      auto& s = f.state(key);
      f.map.insert_at(probe, IdentityEntry{nullptr, &s}, hash);
      f.reference[key] = &s;
      break;
    }
    case 1: {
      auto& s = f.state(key);
      auto [entry, added] = f.map.try_emplace(IdentityEntry{nullptr, &s});
      REQUIRE(added == !f.reference.contains(key));
      if (added) f.reference[key] = &s;
      break;
    }
    case 2:
      f.map.erase(key);
      f.reference.erase(key);
      break;
    default:
      if (f.map.empty()) break;
      const std::size_t i = random() % f.map.size();
      f.reference.erase(std::string(f.map.at(i).state->identity.view()));
      f.map.erase_at(i);
    }
    f.check_all();
    for (int k = 0; k < 12; ++k) {
      const std::string absent = "k" + std::to_string(k);
      if (!f.reference.contains(absent)) REQUIRE(f.map.find(absent) == nullptr);
    }
    if (step % 500 == 499) {
      f.map.clear();
      f.reference.clear();
    }
  }
}

TEST_CASE("identity key: inline up to 15 bytes, on the heap beyond, through every assignment") {
  // Keys of every length from 0 to 40 replace each other, so every transition is taken:
  // inline to inline, inline to heap, heap to heap, and back inline (which frees the block).
  const std::string source = "0123456789abcdefghijklmnopqrstuvwxyzABCDE";
  IdentityKey key;
  CHECK(key.empty());
  CHECK(key.view().empty());
  for (std::size_t a = 0; a <= 40; ++a)
    for (std::size_t b :
         {std::size_t(0), std::size_t(9), std::size_t(15), std::size_t(16), std::size_t(31)}) {
      key = std::string_view(source).substr(0, a);
      REQUIRE(key.view() == source.substr(0, a));
      CHECK(key.empty() == (a == 0));
      IdentityKey copy = key;
      CHECK(copy == source.substr(0, a));
      key = std::string_view(source).substr(1, b);
      REQUIRE(key.view() == source.substr(1, b));
      CHECK(copy.view() == source.substr(0, a)); // the copy owns its own bytes
      IdentityKey moved = std::move(copy);
      CHECK(moved.view() == source.substr(0, a));
      CHECK(copy.empty());
      copy = std::move(key);
      CHECK(copy.view() == source.substr(1, b));
      key = copy;
      CHECK(key.view() == source.substr(1, b));
    }
  // A view of the key itself (a suffix) assigned back to it.
  for (std::size_t n : {std::size_t(12), std::size_t(30)}) {
    key = std::string_view(source).substr(0, n);
    key = key.view().substr(2);
    CHECK(key.view() == source.substr(2, n - 2));
  }
  // An integer key as encode_identity() writes it: a kind byte and 8 bytes, zeros included.
  const std::string integer("\x02\x00\x00\x00\x01\x00\x00\x00\x00", 9);
  key = integer;
  CHECK(key.view() == integer);
  key.clear();
  CHECK(key.empty());
  CHECK(sizeof(IdentityKey) == 16);
}

TEST_CASE("identity map: entries across many segments, walked by position, run and iterator") {
  // 10,000 entries fill the doubling segments (4 ... 1024) and several of 2048: every position
  // is found by at(), by the runs a flush scans and by iteration, and entries stay where they
  // were put while the map grows (loading keeps a pointer to the entry it just added).
  Fixture f;
  std::vector<IdentityEntry*> placed;
  std::vector<std::weak_ptr<void>> objects;
  for (int i = 0; i < 10000; ++i) {
    const std::string key = "key" + std::to_string(i);
    auto object = std::make_shared<int>(i);
    objects.push_back(object);
    auto& s = f.state(key);
    const std::uint64_t hash = IdentityMap::hash(key);
    placed.push_back(&f.map.insert_at(f.map.probe(key, hash), IdentityEntry{object, &s}, hash));
    f.reference[key] = &s;
  }
  f.check_all();
  for (std::size_t i = 0; i < placed.size(); ++i)
    REQUIRE(&f.map.at(i) == placed[i]);
  std::size_t walked = 0;
  for (std::size_t i = 0; i < f.map.size();) {
    const auto run = f.map.run_from(i);
    REQUIRE(!run.empty());
    for (std::size_t k = 0; k < run.size(); ++k)
      REQUIRE(&run[k] == &f.map.at(i + k));
    i += run.size();
    walked += run.size();
  }
  CHECK(walked == f.map.size());
  CHECK(static_cast<std::size_t>(std::distance(f.map.begin(), f.map.end())) == f.map.size());
  // Erasing lets go of the object at once (the position's old entry is not kept).
  f.reference.erase(std::string(f.map.at(5000).state->identity.view()));
  f.map.erase_at(5000);
  CHECK(objects[5000].expired());
  CHECK(!objects[9999].expired()); // the last entry moved into the hole
  f.check_all();
  // Erasing from the back across a segment boundary and adding again reuses the segments.
  while (f.map.size() > 2000) {
    f.reference.erase(std::string(f.map.at(f.map.size() - 1).state->identity.view()));
    f.map.erase_at(f.map.size() - 1);
  }
  f.check_all();
  for (int i = 0; i < 100; ++i) {
    auto& s = f.state("again" + std::to_string(i));
    REQUIRE(f.map.try_emplace(IdentityEntry{nullptr, &s}).second);
    f.reference[std::string(s.identity.view())] = &s;
  }
  f.check_all();
}

TEST_CASE("identity map: the first entries live in the map; clear() and erasure let go of them") {
  // A session's first objects go into the segment inside the map (no heap block): clearing
  // or erasing must still release them, and the map must fill again from the start after it.
  Fixture f;
  std::vector<std::weak_ptr<void>> objects;
  auto add = [&](const std::string& key) {
    auto object = std::make_shared<int>(0);
    objects.push_back(object);
    auto& s = f.state(key);
    REQUIRE(f.map.try_emplace(IdentityEntry{object, &s}).second);
    f.reference[key] = &s;
  };
  for (int round = 0; round < 3; ++round) {
    objects.clear();
    for (int i = 0; i < 3; ++i)
      add("small" + std::to_string(i));
    f.check_all();
    f.map.clear();
    f.reference.clear();
    for (const auto& object : objects)
      CHECK(object.expired());
    CHECK(f.map.find("small0") == nullptr);
    CHECK(f.map.begin() == f.map.end());
  }
  // Past the inline segment and its hash-free search, then erased back into it and refilled.
  objects.clear();
  for (int i = 0; i < 40; ++i)
    add("grown" + std::to_string(i));
  f.check_all();
  while (f.map.size() > 2) {
    f.reference.erase(std::string(f.map.at(f.map.size() - 1).state->identity.view()));
    f.map.erase_at(f.map.size() - 1);
  }
  f.check_all();
  for (std::size_t i = 2; i < objects.size(); ++i)
    CHECK(objects[i].expired());
  for (int i = 0; i < 40; ++i)
    add("refill" + std::to_string(i));
  f.check_all();
  f.map.clear();
  f.reference.clear();
  for (const auto& object : objects)
    CHECK(object.expired());
  add("after");
  f.check_all();
}
