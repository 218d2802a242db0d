// The identity map's open-addressing table against std::map as the reference, through long
// random sequences of inserts and erasures (backward-shift deletion is easy to get subtly
// wrong: a lookup that stops at a wrongly emptied slot loses an object).
#include <retort/orm/detail/identity_map.hpp>

#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <random>
#include <string>

using retort::InstanceState;
using retort::detail::IdentityEntry;
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
  auto& entries = f.map.entries();
  for (std::size_t i = 0; i < entries.size();) {
    if (entries[i].state->identity.back() % 2 == 0) {
      f.reference.erase(entries[i].state->identity);
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
      f.reference.erase(f.map.entries()[i].state->identity);
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
