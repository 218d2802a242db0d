// What both benchmark programs share: the Customer row, the input data, the checksums bench/run
// verifies, timing and memory figures, and the one RESULT line each run prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <utility>
#include <vector>

namespace bench {

/// One row of the customer table.
struct Customer {
  std::int32_t id{};
  std::string name;
  std::string description;
  std::int32_t q{};
  std::int32_t p{};
};

/// Row i (1-based) as the issue defines it; id 0 means "not inserted yet".
inline Customer make_customer(std::int32_t i, std::int32_t id = 0) {
  return Customer{id, "customer name " + std::to_string(i),
                  "customer description " + std::to_string(i), 10 * i, 20 * i};
}

/// core_update's input: (id, new q) for rows 1..n, q = 10 i + 1 (bulk_update's result).
inline std::vector<std::pair<std::int32_t, std::int32_t>> make_updates(std::int32_t n) {
  std::vector<std::pair<std::int32_t, std::int32_t>> out;
  out.reserve(static_cast<std::size_t>(n));
  for (std::int32_t i = 1; i <= n; ++i)
    out.emplace_back(i, 10 * i + 1);
  return out;
}

/// Rows 1..n without keys: the input of every insert workload, built before the clock starts so
/// that string formatting is not part of any measurement.
inline std::vector<Customer> make_input(std::int32_t n) {
  std::vector<Customer> rows;
  rows.reserve(static_cast<std::size_t>(n));
  for (std::int32_t i = 1; i <= n; ++i)
    rows.push_back(make_customer(i));
  return rows;
}

/// The key short_selects asks for at step k: a fixed permutation of 1..n.
inline std::int32_t select_key(std::int32_t k, std::int32_t n) {
  return static_cast<std::int32_t>((static_cast<std::int64_t>(k) * 7919) % n + 1);
}

inline std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

/// A row's contribution to a checksum. Sums are order-independent, so the id*q term is what
/// catches generated keys handed to the wrong objects.
inline std::uint64_t row_hash(std::int64_t id, std::string_view name, std::string_view description,
                              std::int64_t q, std::int64_t p) {
  const auto uid = static_cast<std::uint64_t>(id);
  const auto uq = static_cast<std::uint64_t>(q);
  return fnv1a(name) + 3 * fnv1a(description) + 5 * uid + 7 * uq +
         11 * static_cast<std::uint64_t>(p) + 13 * uid * uq;
}

inline std::uint64_t row_hash(const Customer& c) {
  return row_hash(c.id, c.name, c.description, c.q, c.p);
}

/// Bytes malloc currently hands out (arena and mmapped blocks).
inline std::size_t heap_in_use() {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

/// Peak resident set size of this process in KiB.
inline long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

/// The objects' own footprint: the struct plus the heap blocks its strings own (capacity + the
/// terminating NUL, when not in the small-string buffer).
inline double own_footprint(const Customer& c) {
  auto heap = [](const std::string& s) -> double {
    return s.capacity() > 15 ? static_cast<double>(s.capacity() + 1) : 0.0;
  };
  return static_cast<double>(sizeof(Customer)) + heap(c.name) + heap(c.description);
}

/// Wall-clock stopwatch for the measured part only.
class Stopwatch {
public:
  void start() { begin_ = std::chrono::steady_clock::now(); }
  void stop() {
    seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
  }
  double seconds() const { return seconds_; }
  /// Times `work` in a frame of its own that is never inlined, so that a profiler can select
  /// just the measured part: valgrind --tool=callgrind --toggle-collect='*Stopwatch::time*'.
  template <typename F> [[gnu::noinline]] void time(F&& work) {
    start();
    work();
    stop();
  }

private:
  std::chrono::steady_clock::time_point begin_;
  double seconds_ = 0;
};

/// What a run reports; printed as one `RESULT key=value ...` line that bench/run parses.
struct Report {
  double seconds = 0;
  std::int64_t rows = 0;
  /// Checksum of the objects the workload produced or loaded (0 when it has none).
  std::uint64_t objects = 0;
  /// Checksum of the table after the workload (0 for read-only workloads).
  std::uint64_t table = 0;
  /// Heap bytes held per loaded object, and their own footprint (load workloads only).
  double bytes_per_object = 0;
  double footprint = 0;
  /// Statements sent, where the program can count them (0 = unknown).
  std::uint64_t statements = 0;

  void print() const {
    std::printf("RESULT seconds=%.6f rows=%lld objects=%llu table=%llu rss_kb=%ld "
                "bytes_per_object=%.1f footprint=%.1f statements=%llu\n",
                seconds, static_cast<long long>(rows), static_cast<unsigned long long>(objects),
                static_cast<unsigned long long>(table), peak_rss_kb(), bytes_per_object, footprint,
                static_cast<unsigned long long>(statements));
    std::fflush(stdout);
  }
};

/// Command line: <workload> <backend> [variant] [n=<rows>] [small_n=<ops>] [path=<file>]
/// [url=<postgresql url>].
struct Args {
  std::string workload;
  std::string backend;
  std::string variant = "default";
  std::int32_t n = 100000;
  std::int32_t small_n = 10000;
  std::string path;
  std::string url;
};

inline Args parse_args(int argc, char** argv) {
  if (argc < 3)
    throw std::runtime_error(
        "usage: <workload> <backend> [variant] [n=] [small_n=] [path=] [url=]");
  Args a;
  a.workload = argv[1];
  a.backend = argv[2];
  for (int i = 3; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view key) -> const char* {
      return arg.substr(0, key.size()) == key ? argv[i] + key.size() : nullptr;
    };
    if (const char* v = value("n="))
      a.n = std::atoi(v);
    else if (const char* v2 = value("small_n="))
      a.small_n = std::atoi(v2);
    else if (const char* v3 = value("path="))
      a.path = v3;
    else if (const char* v4 = value("url="))
      a.url = v4;
    else
      a.variant = std::string(arg);
  }
  if (a.backend == "sqlite_file" && a.path.empty())
    throw std::runtime_error("sqlite_file needs path=");
  if (a.backend == "postgresql" && a.url.empty()) throw std::runtime_error("postgresql needs url=");
  if (a.n <= 0 || a.small_n <= 0 || a.small_n > a.n) throw std::runtime_error("bad n / small_n");
  return a;
}

/// Chunk size of every batched workload (the "chunks of 1000").
inline constexpr std::int32_t chunk = 1000;

inline const Customer& deref(const Customer& c) { return c; }
template <typename P> const Customer& deref(const P& pointer) { return *pointer; }

/// Fills a load workload's figures from the loaded rows (plain or shared_ptr): count, checksum,
/// heap bytes held per row since `heap_before`, and the rows' own footprint.
template <typename Objects>
void record_loaded(Report& r, const Objects& objects, std::size_t heap_before) {
  const auto n = static_cast<double>(objects.size());
  r.bytes_per_object = static_cast<double>(heap_in_use() - heap_before) / n;
  r.footprint = 0;
  for (const auto& o : objects) {
    r.objects += row_hash(deref(o));
    r.footprint += own_footprint(deref(o));
  }
  r.footprint /= n;
  r.rows = static_cast<std::int64_t>(objects.size());
}

} // namespace bench
