// binary: vibesim's own trace format (docs/trace-formats.md). Little-endian.
//   header:  magic "VIBETRC\0" | u32 version = 1 | u32 kind (1 tokens, 2 counts)
//            | u32 layers L | u32 experts E | u32 top_k (counts: 0 = unknown)
//            | u32 reserved = 0 | i64 layer id x L (ascending)
//   tokens:  records until the end: u32 layer index | u32 tokens n | u16 expert id x n*top_k
//   counts:  records until the end, one per step: u32 count x L*E ([layer][expert])
#include <algorithm>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "io/config_error.h"
#include "traces/formats/trace_formats.h"

namespace vibesim {

namespace {

constexpr std::uint32_t kVersion = 1, kTokensKind = 1, kCountsKind = 2;
constexpr std::size_t kHeaderBytes = 32;
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{4} << 30;
constexpr std::uint32_t kTokensPerRecord = 1u << 20;  // written; any count is read

template <class T>
T load(const unsigned char* p) {
  std::make_unsigned_t<T> v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    v |=
        static_cast<std::make_unsigned_t<T>>(static_cast<std::make_unsigned_t<T>>(p[i]) << (8 * i));
  return static_cast<T>(v);
}

template <class T>
void store(std::string& out, T value) {
  const auto v = static_cast<std::make_unsigned_t<T>>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::vector<unsigned char> read_all(const std::filesystem::path& path) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(fmt::format("{}: cannot read: {}", path.string(), ec.message()));
  if (bytes > kMaxFileBytes)
    throw InputError(fmt::format("{}: {} bytes is more than the {} GiB a binary trace may have",
                                 path.string(), bytes, kMaxFileBytes >> 30));
  std::vector<unsigned char> data(static_cast<std::size_t>(bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size())))
    throw InputError(fmt::format("{}: cannot read", path.string()));
  return data;
}

struct Header {
  std::uint32_t kind = 0, layers = 0, experts = 0, top_k = 0;
  std::vector<std::int64_t> layer_ids;
};

Header read_header(const std::vector<unsigned char>& data, const std::string& file) {
  if (data.size() < kHeaderBytes ||
      !std::equal(std::begin(kBinaryTraceMagic), std::end(kBinaryTraceMagic), data.begin()))
    throw InputError(
        fmt::format("{}: not a vibesim binary trace (bad magic or truncated header)", file));
  const auto* p = data.data() + 8;
  if (const auto version = load<std::uint32_t>(p); version != kVersion)
    throw InputError(fmt::format("{}: binary trace version {}; this vibesim reads version {}", file,
                                 version, kVersion));
  Header h{load<std::uint32_t>(p + 4),
           load<std::uint32_t>(p + 8),
           load<std::uint32_t>(p + 12),
           load<std::uint32_t>(p + 16),
           {}};
  if (h.kind != kTokensKind && h.kind != kCountsKind)
    throw InputError(fmt::format("{}: header: unknown record kind {}", file, h.kind));
  if (h.layers < 1 || h.layers > kTraceLayerIdLimit)
    throw InputError(fmt::format("{}: header: {} layers is outside [1, {}]", file, h.layers,
                                 kTraceLayerIdLimit));
  if (h.experts < 1 || h.experts > static_cast<std::uint32_t>(kTraceExpertLimit))
    throw InputError(fmt::format("{}: header: {} experts is outside [1, {}]", file, h.experts,
                                 kTraceExpertLimit));
  if (h.kind == kTokensKind ? (h.top_k < 1 || h.top_k > h.experts) : h.top_k > h.experts)
    throw InputError(
        fmt::format("{}: header: top_k {} does not fit {} experts", file, h.top_k, h.experts));
  if (data.size() < kHeaderBytes + 8 * std::size_t{h.layers})
    throw InputError(
        fmt::format("{}: truncated: the header's {} layer ids are cut off", file, h.layers));
  for (std::size_t l = 0; l < h.layers; ++l) {
    const auto id = load<std::int64_t>(data.data() + kHeaderBytes + 8 * l);
    if (id < 0 || id >= kTraceLayerIdLimit || (l > 0 && id <= h.layer_ids.back()))
      throw InputError(fmt::format("{}: header: layer id {} ({}) is out of range or not ascending",
                                   file, l, id));
    h.layer_ids.push_back(id);
  }
  return h;
}

TokenTrace read_token_records(const std::vector<unsigned char>& data, std::size_t offset,
                              const Header& h, int expert_limit, const std::string& file) {
  TokenTrace trace;
  trace.top_k = static_cast<int>(h.top_k);
  trace.num_experts = static_cast<int>(h.experts);
  trace.layer_ids = h.layer_ids;
  trace.experts.resize(h.layers);
  const auto k = std::size_t{h.top_k};
  const auto limit = std::min<std::uint32_t>(h.experts, static_cast<std::uint32_t>(expert_limit));
  for (std::size_t record = 0; offset < data.size(); ++record) {
    if (data.size() - offset < 8)
      throw InputError(fmt::format("{}: record {}: truncated record header", file, record));
    const auto layer = load<std::uint32_t>(data.data() + offset);
    const auto tokens = std::size_t{load<std::uint32_t>(data.data() + offset + 4)};
    offset += 8;
    if (layer >= h.layers)
      throw InputError(fmt::format("{}: record {}: layer index {} is not below the header's {}",
                                   file, record, layer, h.layers));
    if ((data.size() - offset) / (2 * k) < tokens)
      throw InputError(
          fmt::format("{}: record {}: truncated ({} tokens announced)", file, record, tokens));
    auto& out = trace.experts[layer];
    const auto first = out.size();
    out.resize(first + tokens * k);
    const auto* p = data.data() + offset;
    std::uint32_t largest = 0;
    for (std::size_t i = 0; i < tokens * k; ++i) {
      const auto id = static_cast<std::uint32_t>(p[2 * i] | (p[2 * i + 1] << 8));
      largest = std::max(largest, id);
      out[first + i] = static_cast<std::int32_t>(id);
    }
    if (largest >= limit)
      throw InputError(fmt::format("{}: record {}: expert id {} is out of range [0, {})", file,
                                   record, largest, limit));
    for (std::size_t t = 0; t < tokens; ++t) {
      const auto* token = out.data() + first + t * k;
      for (std::size_t a = 1; a < k; ++a)
        if (std::find(token, token + a, token[a]) != token + a)
          throw InputError(fmt::format("{}: record {}: token {}: expert {} appears twice", file,
                                       record, t, token[a]));
    }
    offset += tokens * k * 2;
  }
  for (std::size_t l = 0; l < h.layers; ++l)
    if (trace.experts[l].empty())
      throw InputError(fmt::format("{}: layer id {} has no tokens", file, h.layer_ids[l]));
  return trace;
}

CountTrace read_count_records(const std::vector<unsigned char>& data, std::size_t offset,
                              const Header& h, int expert_limit, const std::string& file) {
  if (h.experts > static_cast<std::uint32_t>(expert_limit))
    throw InputError(fmt::format("{}: the trace has {} experts, more than the {} allowed", file,
                                 h.experts, expert_limit));
  CountTrace trace;
  trace.top_k = static_cast<int>(h.top_k);
  trace.num_experts = static_cast<int>(h.experts);
  trace.layer_ids = h.layer_ids;
  const std::size_t step_bytes = 4 * std::size_t{h.layers} * h.experts;
  const std::size_t body = data.size() - offset;
  if (body == 0) throw InputError(fmt::format("{}: no records", file));
  if (body % step_bytes != 0)
    throw InputError(fmt::format("{}: record {}: truncated (each step holds {} bytes)", file,
                                 body / step_bytes, step_bytes));
  trace.steps = body / step_bytes;
  check_count_cells(static_cast<double>(trace.steps), h.layers, h.experts, file);
  trace.counts.resize(body / 4);
  for (std::size_t i = 0; i < trace.counts.size(); ++i) {
    const auto c = load<std::uint32_t>(data.data() + offset + 4 * i);
    if (c > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
      throw InputError(
          fmt::format("{}: record {}: count {} is too large", file, i * 4 / step_bytes, c));
    trace.counts[i] = static_cast<std::int32_t>(c);
  }
  return trace;
}

void store_header(std::string& out, std::uint32_t kind, const std::vector<std::int64_t>& layer_ids,
                  int experts, int top_k) {
  out.append(kBinaryTraceMagic, sizeof kBinaryTraceMagic);
  for (const std::uint32_t v :
       {kVersion, kind, static_cast<std::uint32_t>(layer_ids.size()),
        static_cast<std::uint32_t>(experts), static_cast<std::uint32_t>(top_k), 0u})
    store(out, v);
  for (const auto id : layer_ids) store(out, id);
}

}  // namespace

bool binary_trace_holds_tokens(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> head(kHeaderBytes);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (head.size() < kHeaderBytes)
    throw InputError(fmt::format("{}: truncated binary trace header", path.string()));
  return load<std::uint32_t>(head.data() + 12) == kTokensKind;
}

RoutingTrace read_binary_trace(const std::filesystem::path& path, int expert_limit) {
  const auto data = read_all(path);
  const auto file = path.string();
  const auto header = read_header(data, file);
  const auto body = kHeaderBytes + 8 * std::size_t{header.layers};
  if (header.kind == kTokensKind) return read_token_records(data, body, header, expert_limit, file);
  return read_count_records(data, body, header, expert_limit, file);
}

std::string write_binary_trace(const RoutingTrace& trace) {
  std::string out;
  if (const auto* tokens = std::get_if<TokenTrace>(&trace)) {
    store_header(out, kTokensKind, tokens->layer_ids, tokens->num_experts, tokens->top_k);
    const auto k = static_cast<std::size_t>(tokens->top_k);
    for (std::size_t l = 0; l < tokens->layer_ids.size(); ++l) {
      const auto n = tokens->tokens_in_layer(l);
      for (std::size_t first = 0; first < n; first += kTokensPerRecord) {
        const auto count = std::min<std::size_t>(kTokensPerRecord, n - first);
        store(out, static_cast<std::uint32_t>(l));
        store(out, static_cast<std::uint32_t>(count));
        for (std::size_t i = first * k; i < (first + count) * k; ++i)
          store(out, static_cast<std::uint16_t>(tokens->experts[l][i]));
      }
    }
    return out;
  }
  const auto& counts = std::get<CountTrace>(trace);
  store_header(out, kCountsKind, counts.layer_ids, counts.num_experts, counts.top_k);
  for (const auto c : counts.counts) store(out, static_cast<std::uint32_t>(c));
  return out;
}

}  // namespace vibesim
