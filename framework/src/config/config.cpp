// Strict reading of retort.yaml. yaml-cpp accepts duplicate keys silently and reports no file
// names, so every map is walked here: keys are checked against what is allowed and against each
// other, and every error carries file:line:column (yaml-cpp marks are 0-based).
#include "scalars.hpp"

#include <retort/config/config.hpp>
#include <retort/core/error.hpp>
#include <retort/core/url.hpp>
#include <retort/plugin/create_engine.hpp>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

namespace retort {

namespace {

namespace fs = std::filesystem;

struct Entry {
  YAML::Node key;
  YAML::Node value;
};

using Entries = std::map<std::string, Entry, std::less<>>;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out;
}

class Reader {
public:
  explicit Reader(fs::path file) : file_(std::move(file)) {}

  const fs::path& file() const { return file_; }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
    const auto mark = at.Mark();
    if (mark.line < 0) throw ConfigError(what, file_.string());
    throw ConfigError(what, file_.string(), mark.line + 1, mark.column + 1);
  }

  // A mapping with unique scalar keys; `allowed` empty means any key.
  Entries map(const YAML::Node& node, const YAML::Node& owner, const std::string& where,
              std::initializer_list<std::string_view> allowed = {}) const {
    if (!node.IsMap()) fail(node.IsNull() ? owner : node, where + ": expected a mapping");
    Entries entries;
    for (auto it = node.begin(); it != node.end(); ++it) {
      // yaml-cpp's iterator yields a temporary pair: keep copies (Nodes are handles).
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) fail(key, where + ": keys must be plain names");
      const auto& name = key.Scalar();
      if (auto seen = entries.find(name); seen != entries.end())
        fail(key, where + ": duplicate key '" + name + "' (first at line " +
                      std::to_string(seen->second.key.Mark().line + 1) + ")");
      if (allowed.size() > 0 && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::vector<std::string> names(allowed.begin(), allowed.end());
        fail(key, where + ": unknown key '" + name + "'; expected one of: " + join(names));
      }
      entries.emplace(name, Entry{key, value});
    }
    return entries;
  }

  // The scalar with ${...} substituted. Messages show the text as written (never the value of a
  // variable) with any URL password masked.
  std::string scalar(const Entry& entry, const std::string& where) const {
    const auto& node = entry.value;
    if (node.IsNull()) fail(entry.key, where + ": expected a value, got nothing");
    if (!node.IsScalar()) fail(node, where + ": expected a single value, not a list or mapping");
    // A NUL ("\0" in a double-quoted scalar) would cut every C string made of the value:
    // "sqlite:///a\0b.db" would open the file "a".
    if (node.Scalar().find('\0') != std::string::npos)
      fail(node, where + ": the value contains a NUL byte");
    std::string missing, malformed;
    auto value = config::substitute_env(node.Scalar(), missing, malformed);
    if (!malformed.empty()) fail(node, where + ": " + malformed);
    if (!missing.empty()) {
      const auto mark = node.Mark();
      ConfigError error(where + ": environment variable " + missing + " is not set (write ${" +
                            missing + ":-default} for a default)",
                        file_.string(), mark.line + 1, mark.column + 1);
      if (!defer_missing_) throw error;
      if (!missing_) missing_ = error;
    }
    return value;
  }

  template <typename T>
  T typed(const Entry& entry, const std::string& where, config::Parsed<T> parsed) const {
    if (parsed.value) return *parsed.value;
    fail(entry.value, where + ": expected " + parsed.expected + ", got '" +
                          mask_password(entry.value.Scalar()) + "'");
  }

  bool boolean(const Entry& entry, const std::string& where) const {
    return typed(entry, where, config::parse_bool(scalar(entry, where)));
  }
  int integer(const Entry& entry, const std::string& where, int min, int max) const {
    return typed(entry, where, config::parse_int(scalar(entry, where), min, max));
  }
  std::chrono::milliseconds duration(const Entry& entry, const std::string& where) const {
    return typed(entry, where, config::parse_duration(scalar(entry, where)));
  }
  fs::path path(const Entry& entry, const std::string& where) const {
    fs::path p = scalar(entry, where);
    return p.is_absolute() ? p : (file_.parent_path() / p).lexically_normal();
  }

  /// While reading one engine, an unset variable is remembered instead of thrown, so that
  /// an engine nobody asks for cannot break the others.
  void defer_missing_variables(bool on) const {
    defer_missing_ = on;
    missing_.reset();
  }
  const std::optional<ConfigError>& missing_variable() const { return missing_; }

private:
  fs::path file_;
  mutable bool defer_missing_ = false;
  mutable std::optional<ConfigError> missing_;
};

// yaml-cpp reports a tab in indentation as e.g. "illegal map value" or "end of map not found":
// the first tab in the leading whitespace of a line up to the error names the real cause.
std::optional<std::pair<int, int>> indentation_tab(const std::string& text, int last_line) {
  int line = 0;
  std::size_t start = 0;
  while (start <= text.size() && line <= last_line) {
    for (std::size_t i = start; i < text.size() && (text[i] == ' ' || text[i] == '\t'); ++i)
      if (text[i] == '\t') return std::pair{line + 1, static_cast<int>(i - start) + 1};
    const auto end = text.find('\n', start);
    if (end == std::string::npos) break;
    start = end + 1;
    ++line;
  }
  return std::nullopt;
}

// Where the events of a document start, to find a second document: YAML::Load reads the first
// and ignores the rest. (YAML::LoadAll is not used for this: given text after a document that it
// cannot read, such as a line starting with ',', it returns empty documents for ever.)
class FirstMark final : public YAML::EventHandler {
public:
  std::optional<YAML::Mark> mark;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& at, YAML::anchor_t) override { see(at); }
  void OnAlias(const YAML::Mark& at, YAML::anchor_t) override { see(at); }
  void OnScalar(const YAML::Mark& at, const std::string&, YAML::anchor_t,
                const std::string&) override {
    see(at);
  }
  void OnSequenceStart(const YAML::Mark& at, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    see(at);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& at, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    see(at);
  }
  void OnMapEnd() override {}

private:
  void see(const YAML::Mark& at) {
    if (!mark) mark = at;
  }
};

// Anything after the first document (a second one after "---", or text YAML cannot read there)
// is an error, not silently ignored.
void check_single_document(const fs::path& file, const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  FirstMark first, second;
  if (!parser.HandleNextDocument(first) || !parser.HandleNextDocument(second)) return;
  const auto what = "a second YAML document (after '---') or unreadable text after the first "
                    "document: a configuration file holds one document";
  if (!second.mark || second.mark->line < 0) throw ConfigError(what, file.string());
  throw ConfigError(what, file.string(), second.mark->line + 1, second.mark->column + 1);
}

YAML::Node parse_file(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec))
    throw ConfigError("is a directory, not a configuration file", file.string());
  std::ifstream in(file);
  if (!in) throw ConfigError("cannot read the configuration file", file.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  const auto text = buffer.str();
  try {
    auto root = YAML::Load(text);
    check_single_document(file, text);
    return root;
  } catch (const YAML::Exception& e) {
    if (e.mark.line < 0) throw ConfigError("YAML error: " + e.msg, file.string());
    if (auto tab = indentation_tab(text, e.mark.line))
      throw ConfigError("YAML syntax error: a tab character in the indentation (YAML indents "
                        "with spaces only)",
                        file.string(), tab->first, tab->second);
    throw ConfigError("YAML syntax error: " + e.msg, file.string(), e.mark.line + 1,
                      e.mark.column + 1);
  }
}

SettingLocation location_of(const fs::path& file, const std::string& setting,
                            const YAML::Node& node) {
  const auto mark = node.Mark();
  return SettingLocation{setting, file.string(), mark.line + 1, mark.column + 1};
}

void read_pool(const Reader& reader, const Entry& entry, const std::string& where,
               EngineConfig& engine) {
  auto& pool = engine.pool;
  for (const auto& [key, value] :
       reader.map(entry.value, entry.key, where,
                  {"kind", "size", "max_overflow", "timeout", "recycle", "idle_timeout", "pre_ping",
                   "reset_on_return", "lifo", "plugin"})) {
    const auto at = where + "." + key;
    if (key == "kind")
      pool.kind = reader.scalar(value, at);
    else if (key == "size")
      pool.size = reader.integer(value, at, 0, 100000);
    else if (key == "max_overflow")
      pool.max_overflow = reader.integer(value, at, -1, 100000);
    else if (key == "timeout")
      pool.timeout = reader.duration(value, at);
    else if (key == "recycle")
      pool.recycle = reader.duration(value, at);
    else if (key == "idle_timeout")
      pool.idle_timeout = reader.duration(value, at);
    else if (key == "pre_ping")
      pool.pre_ping = reader.boolean(value, at);
    else if (key == "reset_on_return")
      pool.reset_on_return = reader.boolean(value, at);
    else if (key == "lifo")
      pool.lifo = reader.boolean(value, at);
    else if (key == "plugin")
      engine.pool_plugin = reader.path(value, at);
  }
}

EngineConfig read_engine(const Reader& reader, const std::string& name, const Entry& entry) {
  const auto where = "engines." + name;
  EngineConfig engine;
  const auto keys = reader.map(entry.value, entry.key, where,
                               {"url", "password", "echo", "pool", "options", "plugin"});
  const auto url = keys.find("url");
  if (url == keys.end()) reader.fail(entry.key, where + ": missing key 'url'");
  engine.url = reader.scalar(url->second, where + ".url");
  engine.locations["url"] = location_of(reader.file(), where + ".url", url->second.value);
  std::optional<Url> parsed;
  try {
    if (!reader.missing_variable()) parsed = Url::parse(engine.url);
  } catch (const ArgumentError& e) {
    reader.fail(url->second.value, where + ".url: " + e.what());
  }
  for (const auto& [key, value] : keys) {
    const auto at = where + "." + key;
    if (key == "password") {
      engine.password = reader.scalar(value, at);
      if (parsed && parsed->password)
        reader.fail(value.key, at + ": the url has a password too; give it in one place");
    } else if (key == "echo")
      engine.echo = reader.boolean(value, at);
    else if (key == "pool")
      read_pool(reader, value, at, engine);
    else if (key == "plugin")
      engine.plugin = reader.path(value, at);
    else if (key == "options")
      for (const auto& [option, option_value] : reader.map(value.value, value.key, at)) {
        engine.options[option] = reader.scalar(option_value, at + "." + option);
        engine.locations["options." + option] =
            location_of(reader.file(), at + "." + option, option_value.value);
      }
  }
  return engine;
}

} // namespace

const EngineConfig& Configuration::engine(std::string_view name) const {
  if (auto it = engines.find(name); it != engines.end()) return it->second;
  if (auto it = unresolved.find(name); it != unresolved.end()) throw it->second;
  std::vector<std::string> known;
  for (const auto& [known_name, ignored] : engines)
    known.push_back(known_name);
  for (const auto& [known_name, ignored] : unresolved)
    known.push_back(known_name);
  std::sort(known.begin(), known.end());
  throw ConfigError("no engine '" + std::string(name) + "'; known engines: " + join(known),
                    file.string());
}

Configuration load_config(const fs::path& path) {
  const auto file = fs::absolute(path).lexically_normal();
  const auto root = parse_file(file);
  const Reader reader(file);
  if (root.IsNull())
    throw ConfigError("the file is empty; expected a mapping with 'engines'", file.string());

  Configuration config;
  config.file = file;
  const auto top = reader.map(root, root, "top level", {"plugins", "engines"});
  if (auto plugins = top.find("plugins"); plugins != top.end()) {
    const auto keys = reader.map(plugins->second.value, plugins->second.key, "plugins", {"paths"});
    if (auto paths = keys.find("paths"); paths != keys.end()) {
      const auto& list = paths->second.value;
      if (!list.IsSequence()) reader.fail(list, "plugins.paths: expected a list of directories");
      for (std::size_t i = 0; i < list.size(); ++i)
        config.plugin_paths.push_back(reader.path(Entry{paths->second.key, list[i]},
                                                  "plugins.paths[" + std::to_string(i) + "]"));
    }
  }
  const auto engines = top.find("engines");
  if (engines == top.end()) reader.fail(root, "top level: missing key 'engines'");
  for (const auto& [name, entry] :
       reader.map(engines->second.value, engines->second.key, "engines")) {
    reader.defer_missing_variables(true);
    auto engine = read_engine(reader, name, entry);
    if (const auto& missing = reader.missing_variable()) {
      config.unresolved.emplace(name, *missing);
      continue;
    }
    engine.plugin_paths = config.plugin_paths;
    config.engines.emplace(name, std::move(engine));
  }
  reader.defer_missing_variables(false);
  if (config.engines.empty() && config.unresolved.empty())
    reader.fail(engines->second.key, "engines: no engine defined");
  return config;
}

Engine engine_from_config(const fs::path& path, std::string_view name) {
  const auto config = load_config(path);
  return create_engine(config.engine(name));
}

} // namespace retort
