// libFuzzer target: the plugin loader's file checks (ELF headers, segments, sections and the
// manifest note), which run before a file is handed to dlopen(). Any bytes give a manifest or
// a reason; the checks must never read outside the image (AddressSanitizer watches).
#include "plugin/elf_manifest.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact copy, so that a read one byte past the end is caught by AddressSanitizer.
  auto* copy = static_cast<unsigned char*>(std::malloc(size ? size : 1));
  std::memcpy(copy, data, size);
  const auto read = retort::detail::read_manifest(std::span<const unsigned char>(copy, size));
  if (read.manifest.has_value() == !read.failure.empty()) std::abort(); // exactly one of them
  std::free(copy);
  return 0;
}
