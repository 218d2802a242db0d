#include "elf_manifest.hpp"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

namespace retort::detail {

namespace {

using Ehdr = ElfW(Ehdr);
using Phdr = ElfW(Phdr);
using Shdr = ElfW(Shdr);

constexpr unsigned char host_class = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char host_data = ELFDATA2LSB;
#else
constexpr unsigned char host_data = ELFDATA2MSB;
#endif

#if defined(__x86_64__)
constexpr int host_machine = EM_X86_64;
#elif defined(__aarch64__)
constexpr int host_machine = EM_AARCH64;
#elif defined(__i386__)
constexpr int host_machine = EM_386;
#elif defined(__arm__)
constexpr int host_machine = EM_ARM;
#elif defined(__riscv)
constexpr int host_machine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr int host_machine = EM_PPC64;
#elif defined(__s390x__)
constexpr int host_machine = EM_S390;
#else
constexpr int host_machine = 0; // unknown: the machine is not checked
#endif

// A note section larger than this is not a manifest (a real one is a few hundred bytes).
constexpr std::uint64_t max_note_section = 64 * 1024;

std::string machine_name(int machine) {
  switch (machine) {
  case EM_X86_64: return "x86-64";
  case EM_AARCH64: return "AArch64";
  case EM_386: return "i386";
  case EM_ARM: return "ARM";
  case EM_RISCV: return "RISC-V";
  case EM_PPC64: return "PowerPC64";
  case EM_S390: return "s390";
  default: return "machine " + std::to_string(machine);
  }
}

std::string type_name(int type) {
  switch (type) {
  case ET_REL: return "a relocatable object file (.o)";
  case ET_EXEC: return "an executable";
  case ET_CORE: return "a core file";
  default: return "ELF type " + std::to_string(type);
  }
}

// True when [offset, offset + size) lies inside a file of `file_size` bytes (no overflow).
bool inside(std::uint64_t offset, std::uint64_t size, std::uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

std::string truncated(const std::string& what, std::uint64_t offset, std::uint64_t size,
                      std::uint64_t file_size) {
  const auto end = size > std::numeric_limits<std::uint64_t>::max() - offset
                       ? std::string("beyond 2^64")
                       : "at byte " + std::to_string(offset + size);
  return "truncated or corrupt ELF file: " + what + " ends " + end + ", but the file has " +
         std::to_string(file_size) + " bytes";
}

ManifestRead failed(std::string why) { return ManifestRead{std::nullopt, std::move(why)}; }

// Shown in messages: control and non-ASCII bytes of a corrupt manifest as \xNN.
std::string printable(std::string_view text) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 0xf];
    }
  }
  return out;
}

class Image {
public:
  Image(std::uint64_t size, const ReadAt& read) : size_(size), read_(read) {}

  std::uint64_t size() const { return size_; }

  // Reads a whole table or section that was checked to be inside the file.
  bool bytes(std::uint64_t offset, std::uint64_t count, std::vector<unsigned char>& out) const {
    out.resize(static_cast<std::size_t>(count));
    return count == 0 || read_(offset, out.data(), out.size());
  }
  template <typename T> bool object(std::uint64_t offset, T& out) const {
    return read_(offset, &out, sizeof out);
  }

private:
  std::uint64_t size_;
  const ReadAt& read_;
};

// The header: an ELF shared object of this process's class, byte order and machine.
std::optional<std::string> check_header(const Image& image, Ehdr& header) {
  std::vector<unsigned char> magic;
  const auto have = std::min<std::uint64_t>(image.size(), SELFMAG);
  if (!image.bytes(0, have, magic)) return "cannot read the file";
  if (have < SELFMAG || std::memcmp(magic.data(), ELFMAG, SELFMAG) != 0)
    return std::string("not an ELF file (") +
           (image.size() == 0 ? "the file is empty" : "no ELF magic number") + ")";
  if (image.size() < sizeof(Ehdr))
    return truncated("the ELF header", 0, sizeof(Ehdr), image.size());
  if (!image.object(0, header)) return "cannot read the ELF header";
  if (header.e_ident[EI_CLASS] != host_class)
    return std::string("a ") +
           (header.e_ident[EI_CLASS] == ELFCLASS32   ? "32-bit"
            : header.e_ident[EI_CLASS] == ELFCLASS64 ? "64-bit"
                                                     : "corrupt (unknown class)") +
           " ELF file; this process is " + (host_class == ELFCLASS64 ? "64-bit" : "32-bit");
  if (header.e_ident[EI_DATA] != host_data)
    return "an ELF file of the other byte order than this process";
  if (header.e_ident[EI_VERSION] != EV_CURRENT || header.e_version != EV_CURRENT)
    return "corrupt ELF header (unknown ELF version)";
  if (header.e_type != ET_DYN)
    return "not a shared library: the file is " + type_name(header.e_type);
  if (host_machine != 0 && header.e_machine != host_machine)
    return "built for " + machine_name(header.e_machine) + "; this process runs on " +
           machine_name(host_machine);
  return std::nullopt;
}

// The segments dlopen() maps: each must lie inside the file (else SIGBUS on first touch).
std::optional<std::string> check_segments(const Image& image, const Ehdr& header) {
  if (header.e_phnum == 0 || header.e_phentsize != sizeof(Phdr))
    return "corrupt ELF header (bad program header table)";
  const std::uint64_t table = std::uint64_t{header.e_phnum} * sizeof(Phdr);
  if (!inside(header.e_phoff, table, image.size()))
    return truncated("the program header table", header.e_phoff, table, image.size());
  std::vector<unsigned char> bytes;
  if (!image.bytes(header.e_phoff, table, bytes)) return "cannot read the program headers";
  bool loadable = false, dynamic = false;
  for (std::size_t i = 0; i < header.e_phnum; ++i) {
    Phdr segment;
    std::memcpy(&segment, bytes.data() + i * sizeof(Phdr), sizeof segment);
    loadable = loadable || segment.p_type == PT_LOAD;
    dynamic = dynamic || segment.p_type == PT_DYNAMIC;
    if (segment.p_type == PT_LOAD && segment.p_filesz > segment.p_memsz)
      return "corrupt ELF file: segment " + std::to_string(i) +
             " is larger in the file than in "
             "memory";
    if (!inside(segment.p_offset, segment.p_filesz, image.size()))
      return truncated("segment " + std::to_string(i), segment.p_offset, segment.p_filesz,
                       image.size());
  }
  if (!loadable) return "corrupt ELF file: no loadable segment";
  if (!dynamic) return "not a shared library: no dynamic section";
  return std::nullopt;
}

// The section headers, each section inside the file, and the contents of ".note.retort".
std::optional<std::string> find_note_section(const Image& image, const Ehdr& header,
                                             std::vector<unsigned char>& note) {
  if (header.e_shoff == 0 || header.e_shnum == 0)
    return "no section headers, so no Retort manifest (.note.retort)";
  if (header.e_shentsize != sizeof(Shdr)) return "corrupt ELF header (bad section header size)";
  const std::uint64_t table = std::uint64_t{header.e_shnum} * sizeof(Shdr);
  if (!inside(header.e_shoff, table, image.size()))
    return truncated("the section header table", header.e_shoff, table, image.size());
  std::vector<unsigned char> bytes;
  if (!image.bytes(header.e_shoff, table, bytes)) return "cannot read the section headers";
  std::vector<Shdr> sections(header.e_shnum);
  std::memcpy(sections.data(), bytes.data(), bytes.size());
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const auto& section = sections[i];
    if (section.sh_type != SHT_NOBITS && !inside(section.sh_offset, section.sh_size, image.size()))
      return truncated("section " + std::to_string(i), section.sh_offset, section.sh_size,
                       image.size());
  }
  if (header.e_shstrndx == SHN_UNDEF || header.e_shstrndx >= sections.size())
    return "corrupt ELF header (no section name table)";
  const auto& names = sections[header.e_shstrndx];
  if (names.sh_type != SHT_STRTAB) return "corrupt ELF file (bad section name table)";
  static constexpr char wanted[] = ".note.retort"; // compared with its NUL
  std::vector<unsigned char> name(sizeof wanted);
  for (const auto& section : sections) {
    if (section.sh_name >= names.sh_size || names.sh_size - section.sh_name < name.size()) continue;
    if (!image.bytes(names.sh_offset + section.sh_name, name.size(), name))
      return "cannot read the section names";
    if (std::memcmp(name.data(), wanted, sizeof wanted) != 0) continue;
    if (section.sh_type != SHT_NOTE) return "corrupt manifest: .note.retort is not a note section";
    if (section.sh_size > max_note_section) return "corrupt manifest: .note.retort is too large";
    if (!image.bytes(section.sh_offset, section.sh_size, note)) return "cannot read the manifest";
    return std::nullopt;
  }
  return "no Retort manifest (.note.retort): not a Retort plugin, or built for a Retort "
         "older than plugin ABI 8 (rebuild it)";
}

std::uint32_t read_u32(const std::vector<unsigned char>& bytes, std::size_t at) {
  std::uint32_t value;
  std::memcpy(&value, bytes.data() + at, sizeof value);
  return value;
}

// The descriptor of the note owned by "Retort" with the manifest type.
std::optional<std::string_view> manifest_desc(const std::vector<unsigned char>& note) {
  std::size_t at = 0;
  while (note.size() - at >= 12) {
    const std::uint64_t owner_size = read_u32(note, at), desc_size = read_u32(note, at + 4);
    const auto type = read_u32(note, at + 8);
    const std::uint64_t owner_at = at + 12;
    const std::uint64_t desc_at = owner_at + (owner_size + 3) / 4 * 4;
    if (desc_at > note.size() || desc_size > note.size() - desc_at) return std::nullopt;
    const std::string_view owner(reinterpret_cast<const char*>(note.data() + owner_at),
                                 static_cast<std::size_t>(owner_size));
    if (type == manifest_note_type &&
        owner == std::string_view(manifest_note_owner, sizeof manifest_note_owner))
      return std::string_view(reinterpret_cast<const char*>(note.data() + desc_at),
                              static_cast<std::size_t>(desc_size));
    const std::uint64_t next = desc_at + (desc_size + 3) / 4 * 4;
    if (next > note.size()) return std::nullopt;
    at = static_cast<std::size_t>(next);
  }
  return std::nullopt;
}

std::optional<std::uint32_t> parse_u32(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

} // namespace

ManifestRead parse_manifest_desc(std::string_view desc) {
  if (desc.empty() || desc.back() != '\0')
    return failed("corrupt manifest: the fields do not end with a NUL");
  PluginManifest manifest;
  bool have_abi = false, have_tag = false, have_kind = false, have_name = false;
  desc.remove_suffix(1);
  while (true) {
    const auto end = desc.find('\0');
    const auto field = desc.substr(0, end);
    const auto eq = field.find('=');
    if (eq == std::string_view::npos)
      return failed("corrupt manifest: field '" + printable(field) + "' has no '='");
    const auto key = field.substr(0, eq);
    const auto value = field.substr(eq + 1);
    for (const char c : value)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        return failed("corrupt manifest: field '" + printable(key) + "' holds a control byte");
    if (key == "abi") {
      const auto abi = parse_u32(value);
      if (!abi) return failed("corrupt manifest: abi=" + printable(value) + " is not a number");
      manifest.abi_version = *abi;
      have_abi = true;
    } else if (key == "tag") {
      manifest.abi_tag = value;
      have_tag = true;
    } else if (key == "kind") {
      if (value == "dialect")
        manifest.kind = PluginKind::dialect;
      else if (value == "pool")
        manifest.kind = PluginKind::pool;
      else
        return failed("corrupt manifest: unknown kind=" + printable(value));
      have_kind = true;
    } else if (key == "name") {
      manifest.name = value;
      have_name = true;
    } else if (key == "version") {
      manifest.version = value;
    } else if (key == "scheme") {
      manifest.schemes.emplace_back(value);
    } // other keys: added by a later Retort, ignored by this one
    if (end == std::string_view::npos) break;
    desc.remove_prefix(end + 1);
  }
  if (!have_abi) return failed("corrupt manifest: no abi= field");
  if (!have_tag) return failed("corrupt manifest: no tag= field");
  if (!have_kind) return failed("corrupt manifest: no kind= field");
  if (!have_name) return failed("corrupt manifest: no name= field");
  return ManifestRead{std::move(manifest), {}};
}

ManifestRead read_manifest(std::uint64_t file_size, const ReadAt& read) {
  const Image image(file_size, read);
  Ehdr header{};
  if (auto why = check_header(image, header)) return failed(*why);
  if (auto why = check_segments(image, header)) return failed(*why);
  std::vector<unsigned char> note;
  if (auto why = find_note_section(image, header, note)) return failed(*why);
  const auto desc = manifest_desc(note);
  if (!desc) return failed("corrupt manifest: .note.retort holds no well-formed Retort note");
  return parse_manifest_desc(*desc);
}

ManifestRead read_manifest(std::span<const unsigned char> image) {
  return read_manifest(image.size(), [image](std::uint64_t offset, void* out, std::size_t size) {
    if (!inside(offset, size, image.size())) return false;
    std::memcpy(out, image.data() + offset, size);
    return true;
  });
}

ManifestRead read_manifest(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failed(std::string("cannot open: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) return failed(std::string("cannot stat: ") + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) return failed("is a directory, not a plugin file");
  if (!S_ISREG(info.st_mode)) return failed("not a regular file");
  const auto size = static_cast<std::uint64_t>(info.st_size);
  return read_manifest(size, [fd, size](std::uint64_t offset, void* out, std::size_t count) {
    if (!inside(offset, count, size)) return false;
    auto* to = static_cast<char*>(out);
    while (count > 0) {
      const auto got = ::pread(fd, to, count, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false; // an error, or the file shrank since fstat
      to += got;
      offset += static_cast<std::uint64_t>(got);
      count -= static_cast<std::size_t>(got);
    }
    return true;
  });
}

} // namespace retort::detail
