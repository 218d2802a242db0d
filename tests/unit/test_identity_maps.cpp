// A session's identity maps by mapper: the first ones inline, more in a list; maps never move
// while others are added, and a walk visits each once in order of first use.
#include <retort/orm/detail/identity_maps.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using retort::MapperBase;
using retort::detail::IdentityMap;
using retort::detail::IdentityMaps;

namespace {

// Only the addresses of mappers matter to the container.
std::array<char, 8> mapper_storage{};

const MapperBase* mapper(std::size_t i) {
  return reinterpret_cast<const MapperBase*>(&mapper_storage[i]);
}

} // namespace

TEST_CASE("identity maps: made on first use, stable, walked in order", "[unit][identity]") {
  IdentityMaps maps;
  CHECK(maps.empty());
  CHECK(maps.size() == 0);
  CHECK(maps.find(mapper(0)) == nullptr);
  CHECK(maps.begin() == maps.end());

  // More than fit inline: the later ones go to the list.
  std::vector<IdentityMap*> made;
  for (std::size_t i = 0; i < 6; ++i)
    made.push_back(&maps[mapper(i)]);
  CHECK_FALSE(maps.empty());
  CHECK(maps.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) {
    // The same map again, at the same address, whether found or asked for.
    CHECK(&maps[mapper(i)] == made[i]);
    CHECK(maps.find(mapper(i)) == made[i]);
  }
  CHECK(maps.size() == 6);

  std::vector<const MapperBase*> walked;
  for (auto& [m, map] : maps) {
    walked.push_back(m);
    CHECK(&map == made[walked.size() - 1]);
  }
  CHECK(walked == std::vector<const MapperBase*>{mapper(0), mapper(1), mapper(2), mapper(3),
                                                 mapper(4), mapper(5)});
  const IdentityMaps& constant = maps;
  std::size_t count = 0;
  for (const auto& [m, map] : constant) {
    CHECK(m == mapper(count));
    CHECK(map.empty());
    ++count;
  }
  CHECK(count == 6);

  maps.clear();
  CHECK(maps.empty());
  CHECK(maps.size() == 0);
  CHECK(maps.find(mapper(3)) == nullptr);
  CHECK(maps.begin() == maps.end());
  maps[mapper(7)];
  CHECK(maps.size() == 1);
  CHECK(maps.begin()->first == mapper(7));
}
