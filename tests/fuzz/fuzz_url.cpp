// libFuzzer target: the URL parser. Any input is a parsed Url or an ArgumentError; a parsed one
// renders (password shown) to text that parses back to the same parts, and masking never fails.
#include <retort/core/error.hpp>
#include <retort/core/url.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)retort::mask_password(text);
  retort::Url url;
  try {
    url = retort::Url::parse(text);
  } catch (const retort::ArgumentError&) {
    return 0;
  }
  const auto rendered = url.render(false);
  const auto again = retort::Url::parse(rendered); // must not throw: render() output is valid
  if (again.dialect != url.dialect || again.driver != url.driver ||
      again.username != url.username || again.password != url.password || again.host != url.host ||
      again.port != url.port || again.database != url.database || again.query != url.query)
    std::abort(); // render() and parse() disagree
  (void)url.render(true);
  return 0;
}
